package kube

import (
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
)

// observingDriver passes every release record written to the storage to observe, after
// the write succeeded. Reads and deletes go straight to the wrapped driver.
type observingDriver struct {
	driver.Driver
	observe Observer
}

func (d *observingDriver) Create(key string, rls *release.Release) error {
	if err := d.Driver.Create(key, rls); err != nil {
		return err
	}
	d.observe(rls)
	return nil
}

func (d *observingDriver) Update(key string, rls *release.Release) error {
	if err := d.Driver.Update(key, rls); err != nil {
		return err
	}
	d.observe(rls)
	return nil
}
