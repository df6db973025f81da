module gotk.dev/image-reflector-controller

go 1.26.0
