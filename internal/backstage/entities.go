// Package backstage describes what the platform runs as Backstage catalog entities: a Group and a System
// per team, a Resource per cluster and a Component per application, as catalog-info.yaml holds them.
package backstage

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// Well-known annotations and the platform's own labels and annotations on the entities.
const (
	// AnnotationKubernetesID is the annotation the Backstage Kubernetes plugin reads; it finds the
	// objects labelled LabelKubernetesID with the same value.
	AnnotationKubernetesID        = "backstage.io/kubernetes-id"
	LabelKubernetesID             = "backstage.io/kubernetes-id"
	annotationKubernetesNamespace = "backstage.io/kubernetes-namespace"
	annotationVaultSecretsPath    = "vault.io/secrets-path"
	annotationVaultSecretsEngine  = "vault.io/secrets-engine"
	annotationKeycloakGroup       = "idp-platform.io/keycloak-group"
	annotationKubeconfig          = "idp-platform.io/kubeconfig-path"
	annotationEndpoint            = "idp-platform.io/endpoint"
	labelCloud                    = "idp-platform.io/cloud"
	labelRegion                   = "idp-platform.io/region"
	labelKubernetesVersion        = "idp-platform.io/kubernetes-version"
	labelChart                    = "idp-platform.io/chart"
	labelChartVersion             = "idp-platform.io/chart-version"
	labelEnvironment              = "idp-platform.io/environment"

	apiVersion = "backstage.io/v1alpha1"
	// tagEnvironment is the cluster tag that tells a production cluster, as the cluster modules set it.
	tagEnvironment = "environment"
)

// Entity is one Backstage catalog entity.
type Entity struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	Spec       any      `json:"spec"`
}

// Metadata is an entity's metadata, as much of it as the platform fills in.
type Metadata struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	Title       string            `json:"title,omitempty"`
	Description string            `json:"description,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Tags        []string          `json:"tags,omitempty"`
}

// Ref is the entity's reference, as owner and dependsOn fields take it: kind:namespace/name.
func (e Entity) Ref() string {
	return strings.ToLower(e.Kind) + ":" + e.Metadata.Namespace + "/" + e.Metadata.Name
}

type groupSpec struct {
	Type     string       `json:"type"`
	Profile  groupProfile `json:"profile"`
	Children []string     `json:"children"`
}

type groupProfile struct {
	DisplayName string `json:"displayName,omitempty"`
}

type systemSpec struct {
	Owner string `json:"owner"`
}

type resourceSpec struct {
	Type      string   `json:"type"`
	Owner     string   `json:"owner"`
	System    string   `json:"system,omitempty"`
	DependsOn []string `json:"dependsOn,omitempty"`
}

type componentSpec struct {
	Type      string   `json:"type"`
	Lifecycle string   `json:"lifecycle"`
	Owner     string   `json:"owner"`
	System    string   `json:"system,omitempty"`
	DependsOn []string `json:"dependsOn,omitempty"`
}

// Platform is what the platform runs, as its backends report it.
type Platform struct {
	// Namespace is the Backstage namespace of every entity.
	Namespace string
	// ManagementCluster names the Resource of the management cluster the created clusters depend on;
	// "" when there is none to name.
	ManagementCluster string
	// DefaultOwner owns what no team owns: an entity reference.
	DefaultOwner string
	// VaultMount is the KV mount the Vault paths are in, for the Vault plugin's secrets-engine.
	VaultMount string
	Teams      []Team
	Clusters   []Cluster
	Apps       []App
}

// Team is a platform team and its Keycloak group, when known.
type Team struct {
	Name          string
	KeycloakGroup string
	// SecretsPath is the team's folder in the KV mount (its cloud credentials), "" when not known.
	SecretsPath string
}

// Cluster is a cluster the platform created or registered.
type Cluster struct {
	Name, Cloud, Region, KubernetesVersion, Endpoint string
	// Created is true for a cluster the management cluster created, false for a registered one.
	Created bool
	Tags    map[string]string
	// Team is the team that owns the cluster, "" when none does.
	Team string
	// SecretsPath is the cluster's folder in the KV mount, KubeconfigPath its kubeconfig's location.
	SecretsPath, KubeconfigPath string
}

// App is a Helm release on a cluster.
type App struct {
	Cluster, Namespace, Release, Chart, ChartVersion string
}

// Entities describes the platform, in a fixed order: Groups, Systems, Resources, Components, each by name.
func Entities(p Platform) []Entity {
	var entities []Entity
	owners := map[string]string{}
	for _, cluster := range p.Clusters {
		owners[cluster.Name] = cluster.Team
	}
	for _, team := range sortedBy(p.Teams, func(t Team) string { return t.Name }) {
		entities = append(entities, groupEntity(p, team))
	}
	for _, team := range sortedBy(p.Teams, func(t Team) string { return t.Name }) {
		entities = append(entities, systemEntity(p, team))
	}
	if p.ManagementCluster != "" {
		entities = append(entities, Entity{
			APIVersion: apiVersion, Kind: "Resource",
			Metadata: Metadata{
				Name: p.ManagementCluster, Namespace: p.Namespace, Title: "Management cluster",
				Description: "The cluster whose Crossplane creates the platform's clusters and reconciles their add-ons.",
			},
			Spec: resourceSpec{Type: "kubernetes-cluster", Owner: p.DefaultOwner},
		})
	}
	clusters := sortedBy(p.Clusters, func(c Cluster) string { return c.Name })
	for _, cluster := range clusters {
		entities = append(entities, clusterEntity(p, cluster, owners[cluster.Name]))
	}
	entities = append(entities, componentEntities(p, clusters, owners)...)
	return entities
}

func groupEntity(p Platform, team Team) Entity {
	group := Entity{
		APIVersion: apiVersion, Kind: "Group",
		Metadata: Metadata{Name: team.Name, Namespace: p.Namespace, Description: "Platform team " + team.Name + "."},
		Spec:     groupSpec{Type: "team", Profile: groupProfile{DisplayName: team.Name}, Children: []string{}},
	}
	if team.KeycloakGroup != "" {
		group.Metadata.Annotations = map[string]string{annotationKeycloakGroup: team.KeycloakGroup}
	}
	return group
}

func systemEntity(p Platform, team Team) Entity {
	system := Entity{
		APIVersion: apiVersion, Kind: "System",
		Metadata: Metadata{
			Name: team.Name, Namespace: p.Namespace,
			Description: "What team " + team.Name + " runs on the platform: its clusters and applications.",
		},
		Spec: systemSpec{Owner: teamRef(p, team.Name)},
	}
	if team.SecretsPath != "" {
		system.Metadata.Annotations = map[string]string{annotationVaultSecretsPath: team.SecretsPath, annotationVaultSecretsEngine: p.VaultMount}
	}
	return system
}

func teamRef(p Platform, team string) string { return "group:" + p.Namespace + "/" + team }

func clusterEntity(p Platform, cluster Cluster, team string) Entity {
	labels := map[string]string{labelCloud: cluster.Cloud}
	for label, value := range map[string]string{labelRegion: cluster.Region, labelKubernetesVersion: cluster.KubernetesVersion, labelEnvironment: cluster.Tags[tagEnvironment]} {
		if value != "" && validLabelValue(value) {
			labels[label] = value
		}
	}
	annotations := map[string]string{}
	for annotation, value := range map[string]string{annotationKubeconfig: cluster.KubeconfigPath, annotationEndpoint: cluster.Endpoint, annotationVaultSecretsPath: cluster.SecretsPath} {
		if value != "" {
			annotations[annotation] = value
		}
	}
	if cluster.SecretsPath != "" {
		annotations[annotationVaultSecretsEngine] = p.VaultMount
	}
	spec := resourceSpec{Type: "kubernetes-cluster", Owner: p.DefaultOwner}
	if team != "" {
		spec.Owner, spec.System = teamRef(p, team), team
	}
	if cluster.Created && p.ManagementCluster != "" {
		spec.DependsOn = []string{"resource:" + p.Namespace + "/" + p.ManagementCluster}
	}
	description := "Kubernetes cluster registered with the platform."
	if cluster.Created {
		description = fmt.Sprintf("Kubernetes cluster the platform created on %s.", cluster.Cloud)
	}
	return Entity{
		APIVersion: apiVersion, Kind: "Resource",
		Metadata: Metadata{
			Name: cluster.Name, Namespace: p.Namespace, Description: description,
			Labels: labels, Annotations: annotations, Tags: []string{"kubernetes", cluster.Cloud},
		},
		Spec: spec,
	}
}

// componentEntities makes a Component per application: the releases of one name on the clusters of
// one owner are one application deployed several times (staging and production, say), which is what
// the Kubernetes plugin shows under one entity. Releases of the same name under two owners are two
// applications, named after their owners then.
func componentEntities(p Platform, clusters []Cluster, owners map[string]string) []Entity {
	byName := map[string]Cluster{}
	for _, cluster := range clusters {
		byName[cluster.Name] = cluster
	}
	type key struct{ owner, release string }
	grouped := map[key][]App{}
	ownersOf := map[string]map[string]bool{}
	for _, app := range p.Apps {
		k := key{owners[app.Cluster], app.Release}
		grouped[k] = append(grouped[k], app)
		if ownersOf[app.Release] == nil {
			ownersOf[app.Release] = map[string]bool{}
		}
		ownersOf[app.Release][k.owner] = true
	}
	keys := make([]key, 0, len(grouped))
	for k := range grouped {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(strings.Compare(a.release, b.release), strings.Compare(a.owner, b.owner))
	})
	var entities []Entity
	for _, k := range keys {
		apps := sortedBy(grouped[k], func(a App) string { return a.Cluster + "/" + a.Namespace })
		name := k.release
		if len(ownersOf[k.release]) > 1 {
			name = entityName(cmp.Or(k.owner, "unowned") + "-" + k.release)
		}
		annotations := map[string]string{AnnotationKubernetesID: k.release}
		namespaces := map[string]bool{}
		lifecycle := "experimental"
		var dependsOn []string
		for _, app := range apps {
			namespaces[app.Namespace] = true
			dependsOn = append(dependsOn, "resource:"+p.Namespace+"/"+app.Cluster)
			if byName[app.Cluster].Tags[tagEnvironment] == "production" {
				lifecycle = "production"
			}
		}
		if len(namespaces) == 1 {
			annotations[annotationKubernetesNamespace] = apps[0].Namespace
		}
		spec := componentSpec{Type: componentType(apps[0].Chart), Lifecycle: lifecycle, Owner: p.DefaultOwner, DependsOn: slices.Compact(dependsOn)}
		if k.owner != "" {
			spec.Owner, spec.System = teamRef(p, k.owner), k.owner
		}
		labels := map[string]string{}
		if validLabelValue(apps[0].Chart) {
			labels[labelChart] = apps[0].Chart
		}
		if validLabelValue(apps[0].ChartVersion) {
			labels[labelChartVersion] = apps[0].ChartVersion
		}
		entities = append(entities, Entity{
			APIVersion: apiVersion, Kind: "Component",
			Metadata: Metadata{
				Name: name, Namespace: p.Namespace, Title: k.release, Labels: labels, Annotations: annotations,
				Description: fmt.Sprintf("Helm release %s (chart %s %s).", k.release, apps[0].Chart, apps[0].ChartVersion),
			},
			Spec: spec,
		})
	}
	return entities
}

// componentType is the Backstage component type of a release of the chart: the catalog's charts say
// what they run; any other chart is taken for a service.
func componentType(chart string) string {
	switch chart {
	case "worker":
		return "worker"
	case "cronjob":
		return "job"
	}
	return "service"
}

// entityName fits a name into Backstage's 63 characters, keeping it unique with a hash of the whole.
func entityName(name string) string {
	if len(name) <= 63 {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return strings.TrimRight(name[:54], "-_.") + "-" + hex.EncodeToString(sum[:4])
}

// Backstage's formats of an entity's name and of an entity reference (kind:namespace/name, the kind and
// namespace optional), for validating what a configuration gives.
var (
	NamePattern      = regexp.MustCompile(`^[a-zA-Z0-9]+([-_.][a-zA-Z0-9]+)*$`)
	ReferencePattern = regexp.MustCompile(`^([a-zA-Z]+:)?([a-z0-9]+(-[a-z0-9]+)*/)?[a-zA-Z0-9]+([-_.][a-zA-Z0-9]+)*$`)
)

// labelValue is what Backstage (like Kubernetes) takes as a label value.
var labelValue = regexp.MustCompile(`^[a-zA-Z0-9]([-_.a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$`)

func validLabelValue(value string) bool { return labelValue.MatchString(value) }

func sortedBy[T any](items []T, key func(T) string) []T {
	sorted := slices.Clone(items)
	slices.SortStableFunc(sorted, func(a, b T) int { return strings.Compare(key(a), key(b)) })
	return sorted
}

// YAML writes the entities as catalog-info.yaml holds them: one YAML document each.
func YAML(entities []Entity) (string, error) {
	var out bytes.Buffer
	for i, entity := range entities {
		doc, err := yaml.Marshal(entity)
		if err != nil {
			return "", fmt.Errorf("cannot write entity %s as YAML: %w", entity.Ref(), err)
		}
		if i > 0 {
			out.WriteString("---\n")
		}
		out.Write(doc)
	}
	return out.String(), nil
}

// JSON is the entity as the catalog's API returns it.
func (e Entity) JSON() (string, error) {
	doc, err := json.Marshal(e)
	if err != nil {
		return "", fmt.Errorf("cannot write entity %s as JSON: %w", e.Ref(), err)
	}
	return string(doc), nil
}
