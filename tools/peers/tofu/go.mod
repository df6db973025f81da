// Module tofu pins OpenTofu, used by the tests of Terraform-shaped workflows
// (`make testbin` builds it into bin/tofu). A dependency's replace and godebug lines are ignored
// by Go, so OpenTofu's own are copied here from its go.mod at the pinned version.
module gotk.dev/tools/peers/tofu

go 1.26.0

godebug (
	tlsmlkem=0
	winsymlink=0
)

tool github.com/opentofu/opentofu/cmd/tofu

require github.com/opentofu/opentofu v1.12.6

replace github.com/hashicorp/hcl/v2 v2.20.1 => github.com/opentofu/hcl/v2 v2.20.2-0.20251021132045-587d123c2828
