module gotk.dev/source-controller

go 1.26.0
