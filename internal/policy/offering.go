package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"

	shipped "github.com/idp-platform/terraform-provider-idp/policy"
)

// Offering is what the platform offers cloud clusters, as the policy library's settings say
// (policy/lib/settings.rego: regions, kubernetes_versions, max_pool_size). The provider checks it at
// plan whether or not policies are configured, so these numbers live in the library only.
type Offering struct {
	// Regions are the regions per cloud.
	Regions map[string][]string `json:"regions"`
	// KubernetesVersions are the minor versions clusters are created with and upgraded to.
	KubernetesVersions []string `json:"kubernetes_versions"`
	// MaxPoolSize is the largest max_size of a node pool, on any environment.
	MaxPoolSize int64 `json:"max_pool_size"`
}

// settingsFile and defaultSettingsRule are where the library keeps its settings.
const (
	settingsFile        = "lib/settings.rego"
	defaultSettingsRule = "default_settings"
)

// DefaultOffering is the offering of the shipped library's settings, without a deployment's
// overrides. The settings are a literal, read without compiling the library.
var DefaultOffering = sync.OnceValues(func() (Offering, error) {
	src, err := fs.ReadFile(shipped.FS, settingsFile)
	if err != nil {
		return Offering{}, fmt.Errorf("cannot read the shipped policy settings: %w", err)
	}
	module, err := ast.ParseModuleWithOpts("policy/"+settingsFile, string(src), ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err != nil {
		return Offering{}, fmt.Errorf("cannot parse the shipped policy settings: %w", err)
	}
	for _, r := range module.Rules {
		if r.Head.Name.String() != defaultSettingsRule || r.Head.Value == nil {
			continue
		}
		settings, err := ast.JSON(r.Head.Value.Value)
		if err != nil {
			return Offering{}, fmt.Errorf("policy/%s: %s is not a literal: %w", settingsFile, defaultSettingsRule, err)
		}
		return decodeOffering(settings, "policy/"+settingsFile)
	}
	return Offering{}, fmt.Errorf("policy/%s defines no %s", settingsFile, defaultSettingsRule)
})

// evaluateOffering reads the offering from the compiled policies' settings (data.lib.idp.settings,
// the library's defaults under a deployment's idp_policy overrides). Policies without the library's
// settings (NoDefaultLibrary, a set of their own) get the shipped defaults.
func evaluateOffering(ctx context.Context, compiler *ast.Compiler, store storage.Store) (Offering, error) {
	rs, err := rego.New(
		rego.Query("data.lib.idp.settings"),
		rego.Compiler(compiler),
		rego.Store(store),
		rego.StrictBuiltinErrors(true),
	).Eval(ctx)
	if err != nil {
		return Offering{}, fmt.Errorf("cannot evaluate the policy settings (data.lib.idp.settings): %w", err)
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return DefaultOffering()
	}
	return decodeOffering(rs[0].Expressions[0].Value, "data.lib.idp.settings")
}

func decodeOffering(settings any, origin string) (Offering, error) {
	raw, err := json.Marshal(settings)
	if err != nil {
		return Offering{}, fmt.Errorf("%s: %w", origin, err)
	}
	var offering Offering
	if err := json.Unmarshal(raw, &offering); err != nil {
		return Offering{}, fmt.Errorf("%s: regions, kubernetes_versions or max_pool_size has the wrong shape: %w", origin, err)
	}
	switch {
	case len(offering.Regions) == 0:
		return Offering{}, fmt.Errorf("%s: regions is empty: the platform would offer no region", origin)
	case len(offering.KubernetesVersions) == 0:
		return Offering{}, fmt.Errorf("%s: kubernetes_versions is empty: the platform would offer no version", origin)
	case offering.MaxPoolSize < 1:
		return Offering{}, fmt.Errorf("%s: max_pool_size is %d: it must be 1 or more", origin, offering.MaxPoolSize)
	}
	return offering, nil
}
