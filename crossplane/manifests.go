// Package crossplane ships the platform's Crossplane manifests, which users install in their management
// cluster: the KubernetesCluster and KubernetesNodePool CompositeResourceDefinitions, one Composition per
// cloud for each (picked by the label platform.idp.dev/cloud), the AddonStack CompositeResourceDefinition
// and its Composition, the composition functions they run, and the AccessGrant definition whose records
// the access controller (cmd/idp-access-controller) revokes time-bound grants from.
package crossplane

import (
	"embed"
	"io/fs"
	"path"
	"sort"
)

//go:embed crossplane.yaml functions.yaml kubernetescluster/*.yaml kubernetesnodepool/*.yaml addonstack/*.yaml access/*.yaml
var manifests embed.FS

// Manifests returns every manifest file by path, in the order to apply them: functions, then each
// definition before its compositions.
func Manifests() (map[string][]byte, []string, error) {
	files := map[string][]byte{}
	var order []string
	err := fs.WalkDir(manifests, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(name) != ".yaml" || name == packageMetadata {
			return err
		}
		data, err := manifests.ReadFile(name)
		if err != nil {
			return err
		}
		files[name] = data
		order = append(order, name)
		return nil
	})
	sort.SliceStable(order, func(i, j int) bool { return rank(order[i]) < rank(order[j]) })
	return files, order, err
}

func rank(name string) int {
	switch path.Base(name) {
	case "functions.yaml":
		return 0
	case "definition.yaml", "accessgrant.yaml":
		return 1
	default:
		return 2
	}
}
