module gotk.dev/kustomize-controller

go 1.26.0
