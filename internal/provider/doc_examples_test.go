package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

// docExamplesOtherProviders are the doc examples that configure another provider, which no registry
// here can install: they are checked for what is the provider's, with that provider's blocks left out.
var docExamplesOtherProviders = map[string]*regexp.Regexp{
	// Hands the cluster's credentials to the kubernetes provider.
	"ephemeral-resources/idp_cluster_credentials": regexp.MustCompile(`(?s)\nprovider "kubernetes" \{.*?\n\}\n`),
}

// TestDocExamples validates the example of every page of docs/ (examples/, which tfplugindocs renders)
// against the provider's schema with the pinned OpenTofu, so a renamed attribute, a wrong type or a
// missing argument in an example fails the build. An example may use what another page's example
// declares (idp_cluster.payments_dev, say): that example is added to its workspace, and variables it
// leaves to the reader are declared for it.
func TestDocExamples(t *testing.T) {
	if os.Getenv(sandbox.EnvTofu) == "" {
		t.Setenv(sandbox.EnvTofu, pinnedTofu(t))
	}
	root := filepath.Join("..", "..", "examples")
	pages := docExamplePages(t, root)
	// Every page of docs/ has an example: a resource, data source, ephemeral resource or function
	// without one renders a page that shows nothing to copy.
	docs, err := filepath.Glob(filepath.Join("..", "..", "docs", "*", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range docs {
		kind, page := filepath.Base(filepath.Dir(doc)), strings.TrimSuffix(filepath.Base(doc), ".md")
		if kind == "guides" {
			continue
		}
		if kind != "functions" {
			page = "idp_" + page
		}
		if !slices.Contains(pages, kind+"/"+page) {
			t.Errorf("docs/%s/%s.md has no example under examples/%s/%s", kind, filepath.Base(doc), kind, page)
		}
	}
	for _, page := range pages {
		t.Run(page, func(t *testing.T) {
			w := newCLIWorkspace(t, t.TempDir())
			config, files := docExampleConfig(t, root, page)
			w.writeConfig(t, config)
			for _, file := range files {
				if err := os.WriteFile(filepath.Join(w.dir, file), []byte(standInKubeconfig), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			w.run(t, "init", "-input=false", "-backend=false")
			w.run(t, "validate")
		})
	}
}

// standInKubeconfig stands in for the kubeconfig files the examples register: the provider validates
// a kubeconfig's shape at plan.
const standInKubeconfig = `apiVersion: v1
kind: Config
clusters:
  - name: legacy-prod
    cluster: { server: "https://legacy-prod.example.com:6443" }
users:
  - name: admin
    user: { token: stand-in }
contexts:
  - name: legacy-prod
    context: { cluster: legacy-prod, user: admin }
current-context: legacy-prod
`

var (
	declaredResource = regexp.MustCompile(`(?m)^resource "(idp_[a-z_]+)" "([a-z0-9_-]+)"`)
	referencedIDP    = regexp.MustCompile(`(\b(?:data|ephemeral)\.)?\b(idp_[a-z_]+)\.([a-z0-9_-]+)\b`)
	importTarget     = regexp.MustCompile(`\bto\s*=\s*()(idp_[a-z_]+)\.([a-z0-9_-]+)`)
	referencedVar    = regexp.MustCompile(`\bvar\.([a-z0-9_]+)`)
	declaredVar      = regexp.MustCompile(`(?m)^variable "([a-z0-9_]+)"`)
	fileCall         = regexp.MustCompile(`file\("\$\{path\.module\}/([^"]+)"\)`)
)

// docExampleConfig is a page's example with what it uses from other pages: the resource examples that
// declare the resources it refers to, and the variables it reads.
func docExampleConfig(t *testing.T, root, page string) (config string, files []string) {
	t.Helper()
	read := func(dir string) string {
		files, err := filepath.Glob(filepath.Join(root, dir, "*.tf"))
		if err != nil {
			t.Fatal(err)
		}
		var config strings.Builder
		for _, file := range files {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			config.Write(raw)
			config.WriteString("\n")
		}
		return config.String()
	}
	config = read(page)
	if config == "" {
		t.Fatalf("examples/%s holds no .tf file", page)
	}
	if other, ok := docExamplesOtherProviders[page]; ok {
		config = other.ReplaceAllString(config, "\n")
	}
	included := map[string]bool{page: true}
	for {
		declared := map[string]bool{}
		for _, m := range declaredResource.FindAllStringSubmatch(config, -1) {
			declared[m[1]+"."+m[2]] = true
		}
		missing := ""
		for _, m := range append(referencedIDP.FindAllStringSubmatch(config, -1), importTarget.FindAllStringSubmatch(config, -1)...) {
			if m[1] == "" && !declared[m[2]+"."+m[3]] {
				missing = filepath.Join("resources", m[2])
				break
			}
		}
		if missing == "" {
			break
		}
		if included[missing] {
			t.Fatalf("examples/%s refers to a resource that no example declares, not even examples/%s", page, missing)
		}
		included[missing] = true
		// Only the resource example itself: its import block would import a second time.
		raw, err := os.ReadFile(filepath.Join(root, missing, "resource.tf"))
		if err != nil {
			t.Fatalf("examples/%s refers to a resource of examples/%s: %v", page, missing, err)
		}
		config += "\n" + string(raw)
	}
	declared := map[string]bool{}
	for _, m := range declaredVar.FindAllStringSubmatch(config, -1) {
		declared[m[1]] = true
	}
	for _, m := range referencedVar.FindAllStringSubmatch(config, -1) {
		if !declared[m[1]] {
			declared[m[1]] = true
			config += fmt.Sprintf("\nvariable %q {\n  type      = string\n  sensitive = true\n}\n", m[1])
		}
	}
	// Files an example reads (a kubeconfig to register) are the reader's: the workspace has stand-ins.
	for _, m := range fileCall.FindAllStringSubmatch(config, -1) {
		files = append(files, m[1])
	}
	return config, files
}
