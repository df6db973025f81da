// Package registry scans container image repositories for the ImageRepository reconciler:
// it turns .spec.image into the canonical repository name upstream Flux reports
// (.status.canonicalImageName), lists every tag page by page, drops tags matching
// .spec.exclusionList, and summarises the result as .status.lastScanResult does (tag count,
// the ten latest tags in descending lexical order, and a revision that changes exactly when
// the set of tags changes). It also looks up the digest of one tag (a HEAD request on the
// manifest) for ImagePolicy digest reflection.
//
// Credentials come from Secret data handed in by the caller (the .dockerconfigjson of
// .spec.secretRef and of the service account's imagePullSecrets), as do TLS settings
// (.spec.certSecretRef) and the proxy (.spec.proxySecretRef): the package never talks to the
// Kubernetes API. Errors name the image and never contain credentials.
//
// Typical use by a reconciler step:
//
//	img, err := registry.ParseImage(repo.Spec.Image)           // ImageURLInvalid on error
//	c, err := registry.NewClient(registry.Options{DockerConfigs: cfgs, Insecure: repo.Spec.Insecure})
//	res, err := c.Scan(ctx, img, registry.ScanOptions{ExclusionList: repo.GetExclusionList(), Timeout: repo.GetTimeout()})
//	repo.Status.CanonicalImageName = img.Canonical
//	repo.Status.LastScanResult = res.Status(now)
//	store.SetTags(key, res.Tags, res.Revision)
package registry
