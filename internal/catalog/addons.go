package catalog

import (
	"embed"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/version"
	"sigs.k8s.io/yaml"

	"github.com/idp-platform/terraform-provider-idp/internal/addonstack"
)

// The clouds an add-on stack's cluster can be on: the clouds the platform creates clusters in, and
// "existing" for a registered cluster, whose cloud the platform does not know.
const (
	CloudAWS      = "aws"
	CloudAzure    = "azure"
	CloudGCP      = "gcp"
	CloudExisting = "existing"
)

// AddonClouds lists the clouds ResolveAddons knows defaults for.
func AddonClouds() []string { return []string{CloudAWS, CloudAzure, CloudGCP, CloudExisting} }

// AddonDefinition is one add-on of the catalog as users can choose it.
type AddonDefinition struct {
	// Key is what users write in Terraform (cert_manager); Name is what the cluster sees (cert-manager):
	// the Helm release's name and the composed objects' label.
	Key         string
	Name        string
	Description string
	// Namespace is where the release (or the namespaced objects) go; empty for an add-on of
	// cluster-scoped objects only.
	Namespace string
	// Chart is the upstream chart, nil for an add-on made of plain objects (storage).
	Chart *AddonChart
	// Versions are the exact versions the catalog offers, newest first.
	Versions       []AddonVersion
	DefaultVersion string
	// DependsOn are the keys of the add-ons that must be in the same stack, and Ready, first.
	DependsOn []string
	// Gates must all hold before the add-on counts as Ready.
	Gates []addonstack.Gate
}

// AddonChart is where an add-on's chart comes from when no mirror replaces it.
type AddonChart struct {
	Repository string `json:"repository"`
	Name       string `json:"name"`
}

// AddonVersion is one exact version of an add-on: the chart's version for a chart add-on.
type AddonVersion struct {
	Version    string `json:"version"`
	AppVersion string `json:"appVersion,omitempty"`
	// MinKubernetes and MaxKubernetes are the Kubernetes minor versions (1.29) the version supports,
	// both included.
	MinKubernetes string `json:"minKubernetes"`
	MaxKubernetes string `json:"maxKubernetes"`
	// Digest, when set, pins the chart archive (sha256:<hex>): what the mirror serves must match it.
	Digest string `json:"digest,omitempty"`
}

// SupportsKubernetes tells whether the version supports the Kubernetes version (1.34, v1.34.4,
// v1.34.1-gke.100).
func (v AddonVersion) SupportsKubernetes(kubernetesVersion string) (bool, error) {
	cluster, err := version.ParseMajorMinor(kubernetesVersion)
	if err != nil {
		return false, fmt.Errorf("cannot read Kubernetes version %q: %w", kubernetesVersion, err)
	}
	// The catalog's ranges parse: loadAddonCatalog checked them.
	lowest, highest := version.MustParseGeneric(v.MinKubernetes), version.MustParseGeneric(v.MaxKubernetes)
	return cluster.AtLeast(lowest) && !highest.LessThan(cluster), nil
}

// AddonCatalogVersion is the version of the embedded add-on catalog; it changes with any change to it.
func AddonCatalogVersion() string { return addons().version }

// Addons lists the catalog's add-ons, sorted by key.
func Addons() []AddonDefinition {
	c := addons()
	definitions := make([]AddonDefinition, 0, len(c.keys))
	for _, key := range c.keys {
		definitions = append(definitions, c.entries[key].definition())
	}
	return definitions
}

// Addon returns the catalog's add-on with the Terraform key.
func Addon(key string) (AddonDefinition, bool) {
	entry, ok := addons().entries[key]
	if !ok {
		return AddonDefinition{}, false
	}
	return entry.definition(), true
}

// addonFiles holds the catalog and the values schemas of the add-ons without a chart.
//
//go:embed addons
var addonFiles embed.FS

// addonCatalog is the parsed, checked catalog.
type addonCatalog struct {
	version string
	keys    []string // sorted
	entries map[string]*addonEntry
	// order is every key in install order, so a stack's order is this order restricted to the stack.
	order []string
}

// addonEntry is an add-on as the catalog file describes it.
type addonEntry struct {
	Key            string                          `json:"key"`
	Name           string                          `json:"name"`
	Description    string                          `json:"description"`
	Namespace      string                          `json:"namespace,omitempty"`
	Chart          *AddonChart                     `json:"chart,omitempty"`
	Objects        string                          `json:"objects,omitempty"`
	DefaultVersion string                          `json:"defaultVersion"`
	Versions       []addonEntryVersion             `json:"versions"`
	DependsOn      []addonDependency               `json:"dependsOn,omitempty"`
	Values         map[string]any                  `json:"values,omitempty"`
	CloudValues    map[string]map[string]any       `json:"cloudValues,omitempty"`
	Required       map[string][]addonRequiredValue `json:"required,omitempty"`
	Gates          []addonstack.Gate               `json:"gates,omitempty"`
}

type addonEntryVersion struct {
	AddonVersion
	// Values are the version's own defaults, over the cloud's.
	Values map[string]any `json:"values,omitempty"`
}

type addonDependency struct {
	Key string `json:"key"`
	// Reason completes "ingress needs cert_manager in the same stack: ..." in diagnostics.
	Reason string `json:"reason"`
}

// addonRequiredValue is a value without a default on a cloud.
type addonRequiredValue struct {
	// Path is dotted: provider.name.
	Path string `json:"path"`
	Hint string `json:"hint"`
}

type addonCatalogFile struct {
	CatalogVersion string        `json:"catalogVersion"`
	Addons         []*addonEntry `json:"addons"`
}

func (e *addonEntry) definition() AddonDefinition {
	d := AddonDefinition{
		Key:            e.Key,
		Name:           e.Name,
		Description:    e.Description,
		Namespace:      e.Namespace,
		DefaultVersion: e.DefaultVersion,
		Gates:          slices.Clone(e.Gates),
	}
	if e.Chart != nil {
		chart := *e.Chart
		d.Chart = &chart
	}
	for _, v := range e.Versions {
		d.Versions = append(d.Versions, v.AddonVersion)
	}
	for _, dep := range e.DependsOn {
		d.DependsOn = append(d.DependsOn, dep.Key)
	}
	return d
}

func (e *addonEntry) version(v string) (addonEntryVersion, bool) {
	for _, candidate := range e.Versions {
		if candidate.Version == v {
			return candidate, true
		}
	}
	return addonEntryVersion{}, false
}

// versionList names the versions for diagnostics: "v1.18.2 (default), v1.17.4".
func (e *addonEntry) versionList(versions []string) string {
	named := make([]string, len(versions))
	for i, v := range versions {
		named[i] = v
		if v == e.DefaultVersion {
			named[i] += " (default)"
		}
	}
	return strings.Join(named, ", ")
}

// addons is the embedded catalog, read once. It is checked by the package's tests, so a catalog that
// does not load is a bug of this build, not a user's error: it panics.
var addons = sync.OnceValue(func() *addonCatalog {
	data, err := addonFiles.ReadFile("addons/catalog.yaml")
	if err != nil {
		panic(fmt.Sprintf("the embedded add-on catalog is missing: %v", err))
	}
	c, err := loadAddonCatalog(data)
	if err != nil {
		panic(fmt.Sprintf("the embedded add-on catalog is invalid: %v", err))
	}
	return c
})

var (
	addonKeyPattern     = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	exactVersionPattern = regexp.MustCompile(`^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)
	minorVersionPattern = regexp.MustCompile(`^1\.(0|[1-9][0-9]*)$`)
	digestPattern       = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
)

// loadAddonCatalog parses a catalog file and checks everything ResolveAddons relies on, so resolving
// never meets a malformed entry.
func loadAddonCatalog(data []byte) (*addonCatalog, error) {
	var file addonCatalogFile
	if err := yaml.UnmarshalStrict(data, &file); err != nil {
		return nil, fmt.Errorf("cannot parse the add-on catalog: %w", err)
	}
	if file.CatalogVersion == "" {
		return nil, fmt.Errorf("the add-on catalog has no catalogVersion")
	}
	c := &addonCatalog{version: file.CatalogVersion, entries: map[string]*addonEntry{}}
	names := map[string]string{}
	for _, e := range file.Addons {
		if err := checkAddonEntry(e); err != nil {
			return nil, fmt.Errorf("add-on %q: %w", e.Key, err)
		}
		if _, dup := c.entries[e.Key]; dup {
			return nil, fmt.Errorf("add-on %q is defined twice", e.Key)
		}
		if other, dup := names[e.Name]; dup {
			return nil, fmt.Errorf("add-ons %q and %q are both named %q", other, e.Key, e.Name)
		}
		c.entries[e.Key], names[e.Name] = e, e.Key
	}
	c.keys = slices.Sorted(maps.Keys(c.entries))
	for _, key := range c.keys {
		for _, dep := range c.entries[key].DependsOn {
			if _, ok := c.entries[dep.Key]; !ok {
				return nil, fmt.Errorf("add-on %q depends on %q, which is not in the catalog", key, dep.Key)
			}
		}
	}
	order, err := installOrder(c.entries, c.keys)
	if err != nil {
		return nil, err
	}
	c.order = order
	return c, nil
}

func checkAddonEntry(e *addonEntry) error {
	if !addonKeyPattern.MatchString(e.Key) {
		return fmt.Errorf("the key must be snake_case (cert_manager)")
	}
	if errs := validation.IsDNS1123Label(e.Name); len(errs) > 0 {
		return fmt.Errorf("name %q: %s", e.Name, strings.Join(errs, "; "))
	}
	if e.Description == "" {
		return fmt.Errorf("no description")
	}
	switch {
	case e.Chart != nil && e.Objects != "":
		return fmt.Errorf("either a chart or objects, not both")
	case e.Chart != nil:
		if !strings.HasPrefix(e.Chart.Repository, "https://") {
			return fmt.Errorf("chart repository %q must be an https:// URL", e.Chart.Repository)
		}
		if errs := validation.IsDNS1123Label(e.Chart.Name); len(errs) > 0 {
			return fmt.Errorf("chart name %q: %s", e.Chart.Name, strings.Join(errs, "; "))
		}
		if errs := validation.IsDNS1123Label(e.Namespace); len(errs) > 0 {
			return fmt.Errorf("namespace %q: %s", e.Namespace, strings.Join(errs, "; "))
		}
	case e.Objects != "":
		if _, ok := objectBuilders[e.Objects]; !ok {
			return fmt.Errorf("objects %q: no such builder (there are %v)", e.Objects, slices.Sorted(maps.Keys(objectBuilders)))
		}
		if _, err := addonFiles.ReadFile(objectSchemaFile(e.Objects)); err != nil {
			return fmt.Errorf("objects %q have no values schema: %w", e.Objects, err)
		}
	default:
		return fmt.Errorf("neither a chart nor objects")
	}
	if len(e.Versions) == 0 {
		return fmt.Errorf("no versions")
	}
	seen := map[string]bool{}
	for _, v := range e.Versions {
		if err := checkAddonVersion(v.AddonVersion); err != nil {
			return fmt.Errorf("version %q: %w", v.Version, err)
		}
		if seen[v.Version] {
			return fmt.Errorf("version %q is listed twice", v.Version)
		}
		seen[v.Version] = true
	}
	if !seen[e.DefaultVersion] {
		return fmt.Errorf("default version %q is not one of its versions", e.DefaultVersion)
	}
	for _, dep := range e.DependsOn {
		if dep.Key == e.Key {
			return fmt.Errorf("it depends on itself")
		}
		if dep.Reason == "" {
			return fmt.Errorf("the dependency on %q gives no reason", dep.Key)
		}
	}
	for cloud := range e.CloudValues {
		if !slices.Contains(AddonClouds(), cloud) {
			return fmt.Errorf("values for unknown cloud %q", cloud)
		}
	}
	for cloud, required := range e.Required {
		if !slices.Contains(AddonClouds(), cloud) {
			return fmt.Errorf("required values for unknown cloud %q", cloud)
		}
		for _, r := range required {
			if r.Path == "" || r.Hint == "" {
				return fmt.Errorf("a required value on %s needs a path and a hint", cloud)
			}
		}
	}
	for _, g := range e.Gates {
		if err := checkGate(g, e.Namespace); err != nil {
			return fmt.Errorf("gate %s: %w", g, err)
		}
	}
	return nil
}

func checkAddonVersion(v AddonVersion) error {
	if !exactVersionPattern.MatchString(v.Version) {
		return fmt.Errorf("not an exact version (1.2.3 or v1.2.3)")
	}
	if !minorVersionPattern.MatchString(v.MinKubernetes) || !minorVersionPattern.MatchString(v.MaxKubernetes) {
		return fmt.Errorf("minKubernetes %q and maxKubernetes %q must be minor versions such as 1.34", v.MinKubernetes, v.MaxKubernetes)
	}
	if version.MustParseGeneric(v.MaxKubernetes).LessThan(version.MustParseGeneric(v.MinKubernetes)) {
		return fmt.Errorf("maxKubernetes %s is below minKubernetes %s", v.MaxKubernetes, v.MinKubernetes)
	}
	if v.Digest != "" && !digestPattern.MatchString(v.Digest) {
		return fmt.Errorf("digest %q must be sha256:<64 hex digits>", v.Digest)
	}
	return nil
}

func checkGate(g addonstack.Gate, namespace string) error {
	switch g.Type {
	case addonstack.GateCRDEstablished:
		if g.Namespace != "" {
			return fmt.Errorf("a CustomResourceDefinition has no namespace")
		}
		if errs := validation.IsDNS1123Subdomain(g.Name); len(errs) > 0 || !strings.Contains(g.Name, ".") {
			return fmt.Errorf("a CustomResourceDefinition is named <plural>.<group>")
		}
	case addonstack.GateDeploymentAvailable, addonstack.GateServiceEndpoints:
		if g.Namespace != namespace {
			return fmt.Errorf("the gated object must be in the add-on's namespace %q", namespace)
		}
		if errs := validation.IsDNS1123Label(g.Name); len(errs) > 0 {
			return fmt.Errorf("name: %s", strings.Join(errs, "; "))
		}
	default:
		return fmt.Errorf("unknown gate type %q", g.Type)
	}
	return nil
}

// installOrder sorts keys so that every add-on comes after the add-ons it depends on; among add-ons
// free to go, the smallest key goes first, so the order is the same on every plan.
func installOrder(entries map[string]*addonEntry, keys []string) ([]string, error) {
	in := map[string]bool{}
	for _, key := range keys {
		in[key] = true
	}
	waiting := map[string]int{} // key -> dependencies not placed yet
	dependents := map[string][]string{}
	for _, key := range keys {
		for _, dep := range entries[key].DependsOn {
			if in[dep.Key] {
				waiting[key]++
				dependents[dep.Key] = append(dependents[dep.Key], key)
			}
		}
	}
	var ready, order []string
	for _, key := range keys {
		if waiting[key] == 0 {
			ready = append(ready, key)
		}
	}
	for len(ready) > 0 {
		sort.Strings(ready)
		next := ready[0]
		ready = ready[1:]
		order = append(order, next)
		for _, dependent := range dependents[next] {
			if waiting[dependent]--; waiting[dependent] == 0 {
				ready = append(ready, dependent)
			}
		}
	}
	if len(order) != len(keys) {
		var cycle []string
		for _, key := range keys {
			if waiting[key] > 0 {
				cycle = append(cycle, key)
			}
		}
		return nil, fmt.Errorf("add-ons %v depend on each other in a cycle", cycle)
	}
	return order, nil
}
