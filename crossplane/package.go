package crossplane

import (
	"bytes"
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"
)

// packageMetadata is the Configuration package's metadata (meta.pkg.crossplane.io), the first document of
// its package.yaml.
const packageMetadata = "crossplane.yaml"

// ConfigurationPackage is where the platform publishes this package: the management-plane module and the
// catalog's platform-configuration chart install it from there, or from a mirror of it.
const ConfigurationPackage = "xpkg.idp.dev/idp-platform/configuration:v0.1.0"

// PackageYAML returns the package.yaml of the platform's Configuration package: its metadata, then every
// definition and Composition, as `crossplane xpkg build` in this folder assembles them. A Configuration
// may hold only definitions, Compositions and operations, so the functions (packages of their own) and
// the AccessGrant CRD are not in it.
func PackageYAML() ([]byte, error) {
	files, order, err := Manifests()
	if err != nil {
		return nil, err
	}
	meta, err := manifests.ReadFile(packageMetadata)
	if err != nil {
		return nil, err
	}
	stream := bytes.NewBuffer(bytes.TrimSpace(meta))
	for _, name := range order {
		for _, doc := range documents(files[name]) {
			kind, err := kindOf(doc)
			if err != nil {
				return nil, fmt.Errorf("cannot read %s: %w", name, err)
			}
			if kind != "CompositeResourceDefinition" && kind != "Composition" {
				continue
			}
			stream.WriteString("\n---\n")
			stream.Write(bytes.TrimSpace(doc))
		}
	}
	stream.WriteString("\n")
	return stream.Bytes(), nil
}

// Function is a composition function the Compositions run, with the package it installs from.
type Function struct {
	Name    string
	Package string
}

// Functions returns the functions of functions.yaml, in its order.
func Functions() ([]Function, error) {
	data, err := manifests.ReadFile("functions.yaml")
	if err != nil {
		return nil, err
	}
	var functions []Function
	for _, doc := range documents(data) {
		var function struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Spec struct {
				Package string `json:"package"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal(doc, &function); err != nil {
			return nil, fmt.Errorf("cannot read functions.yaml: %w", err)
		}
		functions = append(functions, Function{Name: function.Metadata.Name, Package: function.Spec.Package})
	}
	return functions, nil
}

// AccessGrantDefinition returns the AccessGrant CRD, which the access controller's records need.
func AccessGrantDefinition() ([]byte, error) { return manifests.ReadFile("access/accessgrant.yaml") }

func documents(data []byte) [][]byte {
	var docs [][]byte
	for _, doc := range strings.Split(string(data), "\n---\n") {
		if strings.TrimSpace(doc) != "" {
			docs = append(docs, []byte(doc))
		}
	}
	return docs
}

func kindOf(doc []byte) (string, error) {
	var object struct {
		Kind string `json:"kind"`
	}
	err := yaml.Unmarshal(doc, &object)
	return object.Kind, err
}
