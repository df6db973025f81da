apiVersion: notification.toolkit.fluxcd.io/v1beta2
kind: Alert
metadata:
  name: {{ .Name }}
