module gotk.dev/helm-controller

go 1.26.0
