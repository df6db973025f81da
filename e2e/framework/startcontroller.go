package framework

import (
	"context"
	"fmt"
	"path/filepath"
)

// StartController starts one more controller process in a running Env, as a Pod of a
// Deployment the cluster gained starts (a shard instance the primary applied from Git), and
// waits until it is ready. c.Args carry the Deployment's own flags.
func (e *Env) StartController(ctx context.Context, c ControllerOptions) (*Process, error) {
	if _, ok := e.Controllers[c.Instance()]; ok {
		return nil, fmt.Errorf("%s already runs", c.Instance())
	}
	spec, err := LookupController(c.Name)
	if err != nil {
		return nil, err
	}
	bin := c.Bin
	if bin == "" {
		bins := e.opts.Binaries
		if bins == nil {
			bins = NewBinaries(filepath.Join(e.Dir, "bin"))
		}
		if bin, err = bins.Path(ctx, c.Name); err != nil {
			return nil, err
		}
	}
	eventsURL := ""
	for _, p := range e.Controllers {
		if p.EventsAddr != "" {
			eventsURL = "http://" + p.EventsAddr + "/"
		}
	}
	l := launch{spec: spec, opts: c, bin: bin, eventsURL: eventsURL}
	err = e.startAndWait(ctx, &l)
	return l.proc, err
}
