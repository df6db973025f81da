package main

import (
	"fmt"
	"strings"
	"time"
)

// APICostResult is --mode apicost: the control plane CPU of each request class, written as
// apicost-<N>.json and .md.
type APICostResult struct {
	N       int       `json:"n"`
	Workers int       `json:"workers"`
	Started time.Time `json:"started"`
	Host    Host      `json:"host"`
	// SettleSeconds is the pause after each class inside its window.
	SettleSeconds float64 `json:"settleSeconds"`
	LoadAverage   struct {
		Start string `json:"start"`
		End   string `json:"end"`
	} `json:"loadAverage"`
	// Idle is the control plane's CPU with nothing sent, subtracted pro rata from each class.
	Idle    APICostIdle    `json:"idle"`
	Classes []APICostClass `json:"classes"`
}

// APICostIdle is the control plane's CPU over Seconds with no requests sent.
type APICostIdle struct {
	Seconds    float64            `json:"seconds"`
	CPUSeconds map[string]float64 `json:"cpuSeconds"`
}

// rate is process's idle CPU seconds per second.
func (i APICostIdle) rate(process string) float64 {
	if i.Seconds <= 0 {
		return 0
	}
	return i.CPUSeconds[process] / i.Seconds
}

// APICostClass is one request class sent for N apps.
type APICostClass struct {
	Name string `json:"name"`
	// Requests is how many the benchmark sent.
	Requests int64 `json:"requests"`
	// WallSeconds runs from the first request until the last response.
	WallSeconds float64 `json:"wallSeconds"`
	// WindowSeconds is the wall time plus the settle: what the CPU was measured over.
	WindowSeconds       float64 `json:"windowSeconds"`
	APIServerCPUSeconds float64 `json:"apiserverCPUSeconds"`
	EtcdCPUSeconds      float64 `json:"etcdCPUSeconds"`
	// OtherRequests are the API server's requests in the window beyond the benchmark's
	// (kube-controller-manager reacting, the counters' scrape).
	OtherRequests int64 `json:"otherRequests"`
	// APIRequests are the API server's requests in the window by resource.
	APIRequests map[string]int64 `json:"apiRequests"`
}

// msPerRequest is cpu, less the idle rate over the window, per request, in milliseconds.
func (c APICostClass) msPerRequest(cpu, idleRate float64) float64 {
	if c.Requests <= 0 {
		return 0
	}
	return max(cpu-idleRate*c.WindowSeconds, 0) / float64(c.Requests) * 1000
}

func (c APICostClass) apiserverMsPerRequest(idle APICostIdle) float64 {
	return c.msPerRequest(c.APIServerCPUSeconds, idle.rate("kube-apiserver"))
}

func (c APICostClass) etcdMsPerRequest(idle APICostIdle) float64 {
	return c.msPerRequest(c.EtcdCPUSeconds, idle.rate("etcd"))
}

// Markdown renders the per-class table.
func (r *APICostResult) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## API cost per request class: %d apps (%s)\n\n", r.N, r.Started.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Host: %d CPUs, %s/%s. A fresh cluster with the Flux CRDs and no controllers; each class sent for %d apps by %d "+
		"client workers, one class at a time, each measured from its first request until %s after its last response "+
		"(kube-apiserver and etcd CPU from /proc; the idle rate over the window subtracted in the per-request columns). "+
		"Load average at the start: %s; at the end: %s.\n\n",
		r.Host.CPUs, r.Host.GOOS, r.Host.GOARCH, r.N, r.Workers, dur(r.SettleSeconds), r.LoadAverage.Start, r.LoadAverage.End)
	fmt.Fprintf(&b, "Idle: kube-apiserver %.2fs and etcd %.2fs CPU in %s.\n\n", r.Idle.CPUSeconds["kube-apiserver"], r.Idle.CPUSeconds["etcd"], dur(r.Idle.Seconds))
	b.WriteString("| Class | requests | kube-apiserver CPU | per request | etcd CPU | per request | wall | other requests in window |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, c := range r.Classes {
		fmt.Fprintf(&b, "| %s | %d | %.2fs | %.2f ms | %.2fs | %.2f ms | %s | %d |\n", c.Name, c.Requests, c.APIServerCPUSeconds,
			c.apiserverMsPerRequest(r.Idle), c.EtcdCPUSeconds, c.etcdMsPerRequest(r.Idle), ms(c.WallSeconds), c.OtherRequests)
	}
	return b.String()
}

// Write stores apicost-<N>.json and .md in dir and returns their paths.
func (r *APICostResult) Write(dir string) ([]string, error) {
	return writeResult(dir, fmt.Sprintf("apicost-%d", r.N), r, r.Markdown())
}
