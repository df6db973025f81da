package main

import (
	"fmt"
	"strings"

	"gotk.dev/e2e/framework"
)

// floorMarkdown renders ours beside the floor (and the Flux floor when it ran) and the ratios.
func (r *Result) floorMarkdown(b *strings.Builder) {
	f, ff := r.Floor, r.FluxFloor
	if f == nil {
		return
	}
	fmt.Fprintf(b, "\nThe floor (a plain client on a fresh cluster: pull each app's artifact on %d workers, apply its 4 objects "+
		"on %d, wait through a watch until its Deployment is Current):\n\n", f.SourceWorkers, f.ApplyWorkers)
	if ff != nil {
		b.WriteString("The Flux floor (the floor plus the API writes any upstream-compatible Flux makes per app, on a fresh cluster with the " +
			"CRDs and no controllers: POST OCIRepository and Kustomization, a finalizer patch on each, the OCIRepository's Ready status " +
			"and NewArtifact event, the apply as the ServiceAccount, the change-set event, the Kustomization's Ready status once the " +
			"Deployment is Current and its ReconciliationSucceeded event; the upgrade: the spec patch, apply, change-set event, status, event):\n\n")
		b.WriteString("| Phase | ours | floor | ours / floor | Flux floor | ours / Flux floor |\n|---|---|---|---|---|---|\n")
	} else {
		b.WriteString("| Phase | ours | floor | ours / floor |\n|---|---|---|---|\n")
	}
	ratio := func(ours, floor float64, name string) string {
		if floor <= 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f times the %s", ours/floor, name)
	}
	row := func(name string, ours float64, floor, flux *FloorPhase) {
		fmt.Fprintf(b, "| %s | %s | %s | %s |", name, dur(ours), dur(floor.ReadySeconds), ratio(ours, floor.ReadySeconds, "floor"))
		if flux != nil {
			fmt.Fprintf(b, " %s | %s |", dur(flux.ReadySeconds), ratio(ours, flux.ReadySeconds, "Flux floor"))
		} else if ff != nil {
			b.WriteString(" - | - |")
		}
		b.WriteString("\n")
	}
	reqRow := func(name string, ours, floor, flux int64) {
		fmt.Fprintf(b, "| %s | %d | %d | |", name, ours, floor)
		if ff != nil {
			fmt.Fprintf(b, " %d | |", flux)
		}
		b.WriteString("\n")
	}
	var fluxInstall, fluxUpgrade *FloorPhase
	var fluxReqs floorAPIReqs
	if ff != nil {
		fluxInstall, fluxUpgrade, fluxReqs = &ff.Install, ff.Upgrade, ff.APIRequests
	}
	row("install: all Kustomizations Ready", r.Install.KustomizationsReadySeconds, &f.Install, fluxInstall)
	upgraded := r.Upgrade != nil && f.Upgrade != nil
	if upgraded {
		row("upgrade: all Kustomizations Ready", r.Upgrade.KustomizationsReadySeconds, f.Upgrade, fluxUpgrade)
	}
	reqRow("API requests install", r.APIRequests.Install.Total(), f.APIRequests.Install.Total(), fluxReqs.Install.Total())
	if upgraded {
		reqRow("API requests upgrade", r.APIRequests.Upgrade.Total(), f.APIRequests.Upgrade.Total(), fluxReqs.Upgrade.Total())
	}
	r.cpuRows(b, ff != nil)
	for _, fl := range []struct {
		name string
		f    *FloorResult
	}{{"floor", f}, {"Flux floor", ff}} {
		if fl.f == nil {
			continue
		}
		for _, phase := range []string{"install", "upgrade"} {
			if cp := fl.f.ControlPlaneCPU[phase]; cp != nil {
				fmt.Fprintf(b, "\n- %s control plane CPU (%s): %s", fl.name, phase, formatCPU(cp))
			}
		}
	}
	if ff != nil {
		for _, p := range []struct {
			name string
			a    framework.APIRequests
		}{{"install", ff.APIRequests.Install}, {"upgrade", ff.APIRequests.Upgrade}} {
			if p.a.Total() > 0 {
				fmt.Fprintf(b, "\n- Flux floor API requests (%s): %s", p.name, framework.FormatCounts(p.a.ByVerb))
			}
		}
		fmt.Fprintf(b, "\n- load average when the Flux floor started: %s", ff.LoadAverage)
	}
	fmt.Fprintf(b, "\n- load average when the floor started: %s\n", f.LoadAverage)
	floorStages(b, "floor", f)
	floorStages(b, "Flux floor", ff)
}

// floorStages renders a floor's per-stage distributions.
func floorStages(b *strings.Builder, name string, f *FloorResult) {
	if f == nil {
		return
	}
	for _, phase := range []struct {
		name string
		p    *FloorPhase
	}{{"install", &f.Install}, {"upgrade", f.Upgrade}} {
		if phase.p == nil {
			continue
		}
		fmt.Fprintf(b, "\n| %s %s stage | n | p50 | p90 | max |\n|---|---|---|---|---|\n", name, phase.name)
		for _, s := range phase.p.Stages {
			fmt.Fprintf(b, "| %s | %d | %s | %s | %s |\n", s.Name, s.N, ms(s.P50), ms(s.P90), ms(s.Max))
		}
	}
}

// cpuRows add each phase's CPU of every process (control plane, controllers or the floor's
// client, the benchmark itself) and what it bounds: on a machine of Host.CPUs cores no run
// can finish faster than that CPU divided by the cores.
func (r *Result) cpuRows(b *strings.Builder, withFlux bool) {
	cpus := float64(max(r.Host.CPUs, 1))
	for _, phase := range []string{"install", "upgrade"} {
		ours := sum(r.ControlPlaneCPU[phase]) + r.ClientCPUSeconds[phase]
		for _, c := range r.Controllers {
			if phase == "install" {
				ours += c.InstallCPUSeconds
			} else {
				ours += c.UpgradeCPUSeconds
			}
		}
		floor := r.Floor.totalCPU(phase)
		if ours == 0 || floor == 0 {
			continue
		}
		fmt.Fprintf(b, "| CPU %s, all processes | %.1fs | %.1fs | |", phase, ours, floor)
		if withFlux {
			fmt.Fprintf(b, " %.1fs | |", r.FluxFloor.totalCPU(phase))
		}
		fmt.Fprintf(b, "\n| that CPU / %d cores: the fastest %s this machine allows | %s | %s | |", int(cpus), phase, dur(ours/cpus), dur(floor/cpus))
		if withFlux {
			fmt.Fprintf(b, " %s | |", dur(r.FluxFloor.totalCPU(phase)/cpus))
		}
		b.WriteString("\n")
	}
}

// totalCPU is a floor phase's CPU seconds: the control plane's and its client's.
func (f *FloorResult) totalCPU(phase string) float64 {
	if f == nil {
		return 0
	}
	return sum(f.ControlPlaneCPU[phase]) + f.ClientCPUSeconds[phase]
}

func sum(m map[string]float64) float64 {
	var s float64
	for _, v := range m {
		s += v
	}
	return s
}
