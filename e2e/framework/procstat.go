package framework

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/<pid>/stat. Linux fixes it at
// 100 for user space on every architecture Go supports, whatever the kernel's HZ, so no
// sysconf(_SC_CLK_TCK) (which would need cgo) is needed.
const clockTicks = 100

// procSample is what the framework reads about a live process.
type procSample struct {
	// HWM is VmHWM, the peak resident set size so far, in bytes.
	HWM int64
	// Anon is RssAnon, the anonymous (heap, stacks) part of the resident set now, in bytes:
	// RSS without the executable's file-backed pages, which for a large binary are most of
	// VmHWM and are shared, clean page cache.
	Anon int64
	// CPUSeconds is user+system CPU time of the process and its reaped children.
	CPUSeconds float64
}

// readProc samples /proc/<pid>/status and /proc/<pid>/stat.
func readProc(pid int) (procSample, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procSample{}, err
	}
	hwm, err := parseVmHWM(status)
	if err != nil {
		return procSample{}, fmt.Errorf("/proc/%d/status: %w", pid, err)
	}
	anon, err := parseStatusKB(status, "RssAnon:")
	if err != nil {
		return procSample{}, fmt.Errorf("/proc/%d/status: %w", pid, err)
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procSample{}, err
	}
	cpu, err := parseStatCPU(stat)
	if err != nil {
		return procSample{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return procSample{HWM: hwm, Anon: anon, CPUSeconds: cpu}, nil
}

// parseVmHWM finds "VmHWM:   12345 kB" in a /proc/<pid>/status file and returns bytes.
func parseVmHWM(status []byte) (int64, error) { return parseStatusKB(status, "VmHWM:") }

// parseStatusKB finds the "<field>   12345 kB" line of a /proc/<pid>/status file and returns
// bytes.
func parseStatusKB(status []byte, field string) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, field)
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("unexpected %s line %q", field, line)
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil || kb < 0 {
			return 0, fmt.Errorf("unexpected %s line %q", field, line)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("no %s line (a kernel thread or a zombie?)", field)
}

// parseStatCPU returns utime+stime+cutime+cstime of a /proc/<pid>/stat line in seconds.
// The command name (field 2) is parenthesised and may itself contain spaces and
// parentheses, so fields are counted from the last ')'.
func parseStatCPU(stat []byte) (float64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("no command name in %q", truncate(string(stat), 80))
	}
	// After ") " come field 3 (state) onwards; utime is field 14, cstime field 17.
	fields := strings.Fields(string(stat[i+1:]))
	const first = 3
	if len(fields) < 17-first+1 {
		return 0, fmt.Errorf("only %d fields after the command name", len(fields))
	}
	var ticks int64
	for f := 14; f <= 17; f++ {
		v, err := strconv.ParseInt(fields[f-first], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("field %d: %w", f, err)
		}
		ticks += v
	}
	return float64(ticks) / clockTicks, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// ControlPlaneCPU is the user+system CPU time, in seconds, of each running control plane
// process (etcd, kube-apiserver, ...): with the controllers' it says where a run's work went.
func (e *Env) ControlPlaneCPU() map[string]float64 {
	out := map[string]float64{}
	for name, pid := range e.Cluster.Pids() {
		if s, err := readProc(pid); err == nil {
			out[name] = s.CPUSeconds
		}
	}
	return out
}

// LoadAverage is the first line of /proc/loadavg (1, 5 and 15 minute load averages, ...):
// recorded with benchmark numbers on machines shared with other work.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
