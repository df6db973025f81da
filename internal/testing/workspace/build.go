package workspace

// BuildTags are the build tags every binary of this repository is built with: by `make build`
// (the Makefile's GO_TAGS), by the release images (e2e/images) and by the e2e framework and
// the benchmark (e2e/framework), so that what is tested and measured is what is deployed.
//
// kustomize_disable_go_plugin_support leaves out kustomize's Go plugin loader, the only
// importer of the standard library's plugin package. Flux never loads kustomize plugins (the
// builders use kustomize's disabled PluginConfig), but with cgo enabled (the default where a
// C compiler is installed: `make build`, the e2e framework, the benchmark) a program that
// imports plugin is linked as one that may load Go plugins: the linker keeps every exported
// method of every reachable type, cannot drop unreferenced package-level map initialisers and
// exports every symbol to the dynamic symbol table. kustomize-controller was 147 MB instead of
// 97 MB, and at N=1000 in the benchmark 85 MiB of its resident set were mapped executable
// pages instead of 53-61 MiB. The release images build with CGO_ENABLED=0, where plugin is a
// stub and the tag changes nothing; it keeps every other build as lean as they are.
const BuildTags = "kustomize_disable_go_plugin_support"
