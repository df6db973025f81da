module gotk.dev/image-automation-controller

go 1.26.0
