module gotk.dev/pkg

go 1.26.0
