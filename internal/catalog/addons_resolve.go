package catalog

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/version"
	"sigs.k8s.io/yaml"

	"github.com/idp-platform/terraform-provider-idp/internal/addonstack"
)

// AddonRequest is a stack as a user asks for it.
type AddonRequest struct {
	// Cloud is the cluster's cloud: aws, azure, gcp, or existing for a registered cluster.
	Cloud string
	// KubernetesVersion is the cluster's version (1.34, v1.34.4); empty when not known yet, which
	// skips the check of the versions' supported range.
	KubernetesVersion string
	// Mirror replaces every chart's upstream repository: an OCI registry path (oci://host/path, the
	// chart's name is appended) or an HTTP chart repository (https://host/path). Empty: upstream.
	Mirror string
	// Addons are the chosen add-ons by Terraform key.
	Addons map[string]AddonSelection
}

// AddonSelection is one chosen add-on.
type AddonSelection struct {
	// Version is exact; empty picks the catalog's default.
	Version string
	// Values is YAML (a map), merged over the catalog's defaults; may be empty.
	Values string
}

// AddonProblem is why a request cannot be resolved, for one diagnostic.
type AddonProblem struct {
	// Addon is the add-on's key; empty for a problem of the request itself (its cloud, Kubernetes
	// version or mirror).
	Addon string
	// Attribute is the add-on's attribute at fault: "" (the add-on itself), "version" or "values"; for
	// a problem of the request: "cloud", "kubernetes_version" or "mirror".
	Attribute string
	Summary   string
	Detail    string
}

func (p AddonProblem) String() string {
	where := p.Addon
	if p.Attribute != "" {
		where = strings.TrimPrefix(where+"."+p.Attribute, ".")
	}
	return fmt.Sprintf("%s: %s: %s", where, p.Summary, p.Detail)
}

// ResolveAddons resolves a stack from the catalog: the add-ons in install order (every add-on after
// those it depends on, ties broken by key), each with its chart located (in the mirror when there is
// one), its values (catalog defaults for the cloud and version, merged with the user's), dependencies
// and gates. It returns either the add-ons or every problem found, never both.
func ResolveAddons(req AddonRequest) ([]addonstack.Addon, []AddonProblem) {
	c := addons()
	var problems []AddonProblem
	cloudKnown := slices.Contains(AddonClouds(), req.Cloud)
	if !cloudKnown {
		problems = append(problems, AddonProblem{Attribute: "cloud", Summary: "Unknown cloud",
			Detail: fmt.Sprintf("The add-on catalog has defaults for the clouds %s, not %q.", strings.Join(AddonClouds(), ", "), req.Cloud)})
	}
	if req.KubernetesVersion != "" {
		if _, err := version.ParseMajorMinor(req.KubernetesVersion); err != nil {
			problems = append(problems, AddonProblem{Attribute: "kubernetes_version", Summary: "Unreadable Kubernetes version",
				Detail: fmt.Sprintf("The cluster's Kubernetes version %q is not a version such as 1.34 or v1.34.4.", req.KubernetesVersion)})
			req.KubernetesVersion = ""
		}
	}
	mirror, err := parseMirror(req.Mirror)
	if err != nil {
		problems = append(problems, AddonProblem{Attribute: "mirror", Summary: "Invalid chart mirror", Detail: sentence(err)})
	}

	stack := map[string]addonstack.Addon{}
	for _, key := range slices.Sorted(maps.Keys(req.Addons)) {
		selection := req.Addons[key]
		entry, ok := c.entries[key]
		if !ok {
			problems = append(problems, unknownAddon(c, key))
			continue
		}
		var keyProblems []AddonProblem
		chosen := selection.Version
		if chosen == "" {
			chosen = entry.DefaultVersion
		}
		v, found := entry.version(chosen)
		if !found {
			keyProblems = append(keyProblems, unknownVersion(entry, selection.Version))
		} else if problem, supported := supportsCluster(entry, v.AddonVersion, req.KubernetesVersion); !supported {
			keyProblems = append(keyProblems, problem)
		}
		user, err := parseUserValues(selection.Values)
		if err != nil {
			keyProblems = append(keyProblems, AddonProblem{Addon: key, Attribute: "values", Summary: "Invalid add-on values", Detail: sentence(err)})
		}
		for _, dep := range entry.DependsOn {
			if _, requested := req.Addons[dep.Key]; !requested {
				keyProblems = append(keyProblems, AddonProblem{Addon: key, Summary: "Missing add-on dependency",
					Detail: fmt.Sprintf("%s needs %s in the same stack: %s. Add %s to the stack's add-ons.", key, dep.Key, dep.Reason, dep.Key)})
			}
		}
		// The values can be checked as soon as they are known: version, user's values and cloud.
		if found && err == nil && cloudKnown {
			addon, problem := resolveAddon(c, entry, v, user, req.Cloud, mirror)
			if problem != nil {
				keyProblems = append(keyProblems, *problem)
			} else if len(keyProblems) == 0 {
				stack[key] = addon
			}
		}
		problems = append(problems, keyProblems...)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	var resolved []addonstack.Addon
	for _, key := range c.order {
		if addon, ok := stack[key]; ok {
			resolved = append(resolved, addon)
		}
	}
	return resolved, nil
}

// resolveAddon is one add-on at version v on cloud: its values layered (catalog, cloud, version, user),
// its chart located or its objects built.
func resolveAddon(c *addonCatalog, entry *addonEntry, v addonEntryVersion, user map[string]any, cloud string, mirror chartMirror) (addonstack.Addon, *AddonProblem) {
	values := mergeValues(nil, entry.Values)
	values = mergeValues(values, entry.CloudValues[cloud])
	values = mergeValues(values, v.Values)
	values = mergeValues(values, user)
	if problem, ok := requiredValues(entry, cloud, values); !ok {
		return addonstack.Addon{}, &problem
	}
	addon := addonstack.Addon{
		Name:      entry.Name,
		Namespace: entry.Namespace,
		Gates:     slices.Clone(entry.Gates),
	}
	for _, dep := range entry.DependsOn {
		addon.DependsOn = append(addon.DependsOn, c.entries[dep.Key].Name)
	}
	if entry.Chart == nil {
		manifests, err := buildObjects(entry, values)
		if err != nil {
			return addonstack.Addon{}, &AddonProblem{Addon: entry.Key, Attribute: "values", Summary: "Invalid add-on values", Detail: sentence(err)}
		}
		addon.Manifests = manifests
		return addon, nil
	}
	addon.Chart = mirror.locate(*entry.Chart, v.Version)
	if len(values) > 0 {
		addon.Values = values
	}
	return addon, nil
}

func unknownAddon(c *addonCatalog, key string) AddonProblem {
	detail := fmt.Sprintf("%q is not an add-on of the catalog (version %s), which has: %s.", key, c.version, strings.Join(c.keys, ", "))
	// Users write the name they know from the cluster (cert-manager) for the key (cert_manager).
	for _, k := range c.keys {
		if e := c.entries[k]; key == e.Name || strings.ReplaceAll(key, "-", "_") == k {
			detail += fmt.Sprintf(" Did you mean %s?", k)
			break
		}
	}
	return AddonProblem{Addon: key, Summary: "Unknown add-on", Detail: detail}
}

func unknownVersion(e *addonEntry, v string) AddonProblem {
	var versions []string
	for _, candidate := range e.Versions {
		versions = append(versions, candidate.Version)
	}
	detail := fmt.Sprintf("%s has no version %q in the catalog; versions: %s.", e.Key, v, e.versionList(versions))
	for _, candidate := range versions {
		if strings.TrimPrefix(candidate, "v") == strings.TrimPrefix(v, "v") {
			detail += fmt.Sprintf(" Did you mean %s?", candidate)
		}
	}
	return AddonProblem{Addon: e.Key, Attribute: "version", Summary: "Unknown add-on version", Detail: detail}
}

// supportsCluster checks the version against the cluster's Kubernetes version, when it is known.
func supportsCluster(e *addonEntry, v AddonVersion, kubernetesVersion string) (AddonProblem, bool) {
	if kubernetesVersion == "" {
		return AddonProblem{}, true
	}
	// The request's version was parsed already and the catalog's ranges at load.
	if ok, _ := v.SupportsKubernetes(kubernetesVersion); ok {
		return AddonProblem{}, true
	}
	minor := version.MustParseGeneric(kubernetesVersion)
	cluster := fmt.Sprintf("%d.%d", minor.Major(), minor.Minor())
	var supporting []string
	for _, candidate := range e.Versions {
		if ok, _ := candidate.SupportsKubernetes(kubernetesVersion); ok {
			supporting = append(supporting, candidate.Version)
		}
	}
	detail := fmt.Sprintf("%s %s supports Kubernetes %s to %s; the cluster runs %s.", e.Key, v.Version, v.MinKubernetes, v.MaxKubernetes, cluster)
	if len(supporting) > 0 {
		detail += fmt.Sprintf(" Versions that support %s: %s.", cluster, e.versionList(supporting))
	} else {
		detail += fmt.Sprintf(" No version of %s in this catalog supports %s.", e.Key, cluster)
	}
	return AddonProblem{Addon: e.Key, Attribute: "version", Summary: "Add-on version does not support the cluster's Kubernetes version", Detail: detail}, false
}

func parseUserValues(text string) (map[string]any, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	var parsed any
	if err := yaml.Unmarshal([]byte(text), &parsed); err != nil {
		return nil, fmt.Errorf("the values are not YAML: %w", err)
	}
	switch v := parsed.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return v, nil
	default:
		return nil, fmt.Errorf("the values must be a YAML map of the add-on's values (e.g. yamlencode({ replicaCount = 2 })), not %s", describeYAML(v))
	}
}

func describeYAML(v any) string {
	switch v.(type) {
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

// mergeValues merges src over dst, into a copy: maps merge key by key, anything else is replaced, and
// a null in src removes the key (as in Helm, so a user can drop a default).
func mergeValues(dst, src map[string]any) map[string]any {
	out := copyMap(dst)
	if out == nil {
		out = map[string]any{}
	}
	for key, value := range src {
		if value == nil {
			delete(out, key)
			continue
		}
		srcMap, srcIsMap := value.(map[string]any)
		dstMap, dstIsMap := out[key].(map[string]any)
		if srcIsMap && dstIsMap {
			out[key] = mergeValues(dstMap, srcMap)
			continue
		}
		out[key] = copyValue(value)
	}
	return out
}

// copyMap copies values deeply, so no caller can change the catalog's defaults through a result, and
// a null nested in a map the defaults do not have is dropped as in a merge.
func copyMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for key, value := range m {
		if value != nil {
			out[key] = copyValue(value)
		}
	}
	return out
}

func copyValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return copyMap(v)
	case []any:
		out := make([]any, len(v))
		for i, item := range v {
			out[i] = copyValue(item)
		}
		return out
	}
	return v
}

// requiredValues checks the values the cloud has no default for.
func requiredValues(e *addonEntry, cloud string, values map[string]any) (AddonProblem, bool) {
	var missing, hints []string
	for _, r := range e.Required[cloud] {
		if v, ok := lookupValue(values, r.Path); !ok || v == "" {
			missing = append(missing, r.Path)
			hints = append(hints, fmt.Sprintf("%s: %s", r.Path, r.Hint))
		}
	}
	if len(missing) == 0 {
		return AddonProblem{}, true
	}
	return AddonProblem{Addon: e.Key, Attribute: "values", Summary: "Missing add-on values",
		Detail: fmt.Sprintf("On cloud %q the catalog has no default for %s of %s: set it in the add-on's values (%s).",
			cloud, strings.Join(missing, ", "), e.Key, strings.Join(hints, "; "))}, false
}

func lookupValue(values map[string]any, path string) (any, bool) {
	var current any = values
	for _, part := range strings.Split(path, ".") {
		m, ok := current.(map[string]any)
		if !ok {
			return nil, false
		}
		if current, ok = m[part]; !ok || current == nil {
			return nil, false
		}
	}
	return current, true
}

// chartMirror is where charts come from: upstream (zero value), an OCI registry or an HTTP repository.
type chartMirror struct {
	repository string
	// plainHTTP is for an OCI registry only; an HTTP repository's scheme says it.
	plainHTTP bool
}

func parseMirror(mirror string) (chartMirror, error) {
	if mirror == "" {
		return chartMirror{}, nil
	}
	u, err := url.Parse(mirror)
	if err != nil {
		return chartMirror{}, fmt.Errorf("the chart mirror %q is not a URL: %w", mirror, err)
	}
	if u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return chartMirror{}, fmt.Errorf("the chart mirror %q must be oci://host/path or https://host/path, without credentials, query or fragment", mirror)
	}
	repository := strings.TrimSuffix(mirror, "/")
	switch u.Scheme {
	case "oci":
		// The chart's name and version are appended: oci://host/path/<chart>:<version>.
		if strings.ContainsAny(u.Path, "@:") {
			return chartMirror{}, fmt.Errorf("the OCI chart mirror %q must name a registry path without a tag or digest, e.g. oci://registry.example/addons", mirror)
		}
		// As container runtimes do, a registry on loopback is reached over plain HTTP; any other over TLS.
		return chartMirror{repository: repository, plainHTTP: isLoopbackHost(u.Hostname())}, nil
	case "https", "http":
		return chartMirror{repository: repository}, nil
	default:
		return chartMirror{}, fmt.Errorf("the chart mirror %q must be an OCI registry (oci://) or an HTTP chart repository (https://)", mirror)
	}
}

func (m chartMirror) locate(upstream AddonChart, version string) *addonstack.Chart {
	chart := &addonstack.Chart{Repository: upstream.Repository, Name: upstream.Name, Version: version}
	if m.repository != "" {
		chart.Repository, chart.PlainHTTP = m.repository, m.plainHTTP
	}
	return chart
}

func isLoopbackHost(hostname string) bool {
	if hostname == "localhost" {
		return true
	}
	ip := net.ParseIP(hostname)
	return ip != nil && ip.IsLoopback()
}

// sentence makes an error a diagnostic's detail: capitalized, with a full stop.
func sentence(err error) string {
	text := err.Error()
	if text == "" {
		return text
	}
	return strings.ToUpper(text[:1]) + text[1:] + "."
}
