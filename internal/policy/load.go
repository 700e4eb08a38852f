package policy

import (
	"fmt"
	"io/fs"
	"maps"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/loader"

	shipped "github.com/idp-platform/terraform-provider-idp/policy"
)

// policySet is what New compiles: modules by file name, and the data document.
type policySet struct {
	modules map[string]*ast.Module
	data    map[string]any
}

// skipTests leaves Rego unit tests out of evaluation: they are for `opa test` and `conftest verify`.
func skipTests(_ string, info fs.FileInfo, _ int) bool {
	return !info.IsDir() && strings.HasSuffix(info.Name(), "_test.rego")
}

func load(cfg Config) (policySet, error) {
	set := policySet{modules: map[string]*ast.Module{}, data: map[string]any{}}
	if !cfg.NoDefaultLibrary {
		lib, err := shippedModules(false)
		if err != nil {
			return set, err
		}
		maps.Copy(set.modules, lib)
	}
	if len(cfg.Paths) > 0 {
		loaded, err := loader.NewFileLoader().WithRegoVersion(ast.RegoV1).Filtered(cfg.Paths, skipTests)
		if err != nil {
			return set, fmt.Errorf("cannot load the policies of %s: %w", strings.Join(cfg.Paths, ", "), err)
		}
		if err := set.add(loaded); err != nil {
			return set, err
		}
	}
	if cfg.Bundle != "" {
		b, err := loader.NewFileLoader().WithRegoVersion(ast.RegoV1).WithSkipBundleVerification(true).AsBundle(cfg.Bundle)
		if err != nil {
			return set, fmt.Errorf("cannot load the policy bundle %s: %w", cfg.Bundle, err)
		}
		for _, m := range b.Modules {
			if strings.HasSuffix(m.Path, "_test.rego") {
				continue
			}
			if err := set.addModule(m.URL, m.Parsed); err != nil {
				return set, err
			}
		}
		if err := mergeData(set.data, b.Data, "bundle "+cfg.Bundle, nil); err != nil {
			return set, err
		}
	}
	return set, nil
}

// shippedModules parses the shipped library, with its tests or without. Files are named as in the
// repository (policy/lib/idp.rego), so that errors point at them.
func shippedModules(tests bool) (map[string]*ast.Module, error) {
	modules := map[string]*ast.Module{}
	err := fs.WalkDir(shipped.FS, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(name, ".rego") || (!tests && strings.HasSuffix(name, "_test.rego")) {
			return err
		}
		src, err := fs.ReadFile(shipped.FS, name)
		if err != nil {
			return err
		}
		module, err := ast.ParseModuleWithOpts("policy/"+name, string(src), ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			return err
		}
		modules["policy/"+name] = module
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot load the shipped policy library: %w", err)
	}
	return modules, nil
}

func (s policySet) add(loaded *loader.Result) error {
	for name, file := range loaded.Modules {
		if err := s.addModule(name, file.Parsed); err != nil {
			return err
		}
	}
	return mergeData(s.data, loaded.Documents, "the policy paths", nil)
}

func (s policySet) addModule(name string, module *ast.Module) error {
	if _, ok := s.modules[name]; ok {
		return fmt.Errorf("policy file %s is loaded twice", name)
	}
	s.modules[name] = module
	return nil
}

// mergeData merges src into dst; a value both define differently is an error, as OPA's loader has
// it, rather than one silently winning.
func mergeData(dst, src map[string]any, origin string, at []string) error {
	for key, value := range src {
		here := append(append([]string(nil), at...), key)
		existing, ok := dst[key]
		if !ok {
			dst[key] = value
			continue
		}
		existingObject, ok1 := existing.(map[string]any)
		valueObject, ok2 := value.(map[string]any)
		if !ok1 || !ok2 {
			return fmt.Errorf("the policy data of %s sets data.%s, which other policy data already sets", origin, strings.Join(here, "."))
		}
		if err := mergeData(existingObject, valueObject, origin, here); err != nil {
			return err
		}
	}
	return nil
}
