module gotk.dev/notification-controller

go 1.26.0
