package plugin

import "context"

// Why an update was not needed.
const (
	SkipManual   = "manually installed"
	SkipUpToDate = "already up to date"
)

// Update is what updating one installed plugin means: skipped (with a reason), or the
// catalog's newest version to install over FromVersion.
type Update struct {
	Name        string
	FromVersion string
	ToVersion   string
	Skip        string // empty when there is something to install
	Manifest    *Manifest
	Version     *Version
	Platform    *Platform
}

// CheckUpdate compares the receipt of the installed plugin name with the newest version in
// the catalog for goos/goarch. A plugin without a receipt was put there by hand and is left
// alone.
func CheckUpdate(ctx context.Context, c *CatalogClient, dir, name, goos, goarch string) (*Update, error) {
	r := ReadReceipt(dir, name)
	if r == nil {
		return &Update{Name: name, Skip: SkipManual}, nil
	}
	m, err := c.Manifest(ctx, name)
	if err != nil {
		return nil, err
	}
	v, p, err := m.Resolve("", goos, goarch)
	if err != nil {
		return nil, err
	}
	u := &Update{Name: name, FromVersion: r.Version, ToVersion: v.Version}
	if r.Version == v.Version {
		u.Skip = SkipUpToDate
		return u, nil
	}
	u.Manifest, u.Version, u.Platform = m, v, p
	return u, nil
}
