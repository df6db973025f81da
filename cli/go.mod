module gotk.dev/cli

go 1.26.0
