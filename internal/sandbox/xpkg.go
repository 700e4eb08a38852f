package sandbox

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry/remote"
)

// xpkgMirrorPath is where in the sandbox registry Crossplane packages are mirrored: a package
// <host>/<path> is at <registry>/xpkg-mirror/<host>/<path>, as an ImageConfig's prefix rewrite finds it.
const xpkgMirrorPath = "xpkg-mirror"

// XpkgMirror is the registry path of the sandbox's mirror of Crossplane packages.
func XpkgMirror(registryHost string) string { return registryHost + "/" + xpkgMirrorPath }

// FunctionFixturePackage is the package.yaml of a fixture package of this project for a composition
// function the sandbox runs: the function's upstream package cannot be pulled here, so it holds only
// the Function metadata the package manager needs.
func FunctionFixturePackage(name string) []byte {
	return fmt.Appendf(nil, "# Fixture package of the idp sandbox: metadata only; the sandbox runs %s itself.\n"+
		"apiVersion: meta.pkg.crossplane.io/v1\nkind: Function\nmetadata:\n  name: %s\nspec:\n  crossplane:\n    version: \">=v2.0.0\"\n", name, name)
}

// xpkgAnnotation marks the layer that holds package.yaml, as the xpkg specification has it.
const xpkgAnnotation = "io.crossplane.xpkg"

// PushPackage pushes an xpkg (an OCI image whose one layer holds package.yaml) to ref, a plain-HTTP
// loopback registry's repository and tag.
func PushPackage(ctx context.Context, ref string, packageYAML []byte) error {
	at := strings.LastIndex(ref, ":")
	if at < strings.LastIndex(ref, "/") {
		return fmt.Errorf("package %s has no tag", ref)
	}
	repository, tag := ref[:at], ref[at+1:]
	repo, err := remote.NewRepository(repository)
	if err != nil {
		return fmt.Errorf("cannot push package %s: %w", ref, err)
	}
	repo.PlainHTTP = true
	repo.Client = &http.Client{Timeout: time.Minute}

	var layer bytes.Buffer
	archive := tar.NewWriter(&layer)
	if err := archive.WriteHeader(&tar.Header{Name: "package.yaml", Mode: 0o644, Size: int64(len(packageYAML))}); err != nil {
		return err
	}
	if _, err := archive.Write(packageYAML); err != nil {
		return err
	}
	if err := archive.Close(); err != nil {
		return err
	}
	layerDigest := digest.FromBytes(layer.Bytes())
	config, err := json.Marshal(ocispec.Image{
		Platform: ocispec.Platform{Architecture: "amd64", OS: "linux"},
		Config:   ocispec.ImageConfig{Labels: map[string]string{xpkgAnnotation + ":" + layerDigest.String(): "base"}},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{layerDigest}},
	})
	if err != nil {
		return err
	}
	layerDesc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: layerDigest, Size: int64(layer.Len()),
		Annotations: map[string]string{xpkgAnnotation: "base"}}
	configDesc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(config), Size: int64(len(config))}
	for _, blob := range []struct {
		desc ocispec.Descriptor
		data []byte
	}{{layerDesc, layer.Bytes()}, {configDesc, config}} {
		if err := repo.Push(ctx, blob.desc, bytes.NewReader(blob.data)); err != nil {
			return fmt.Errorf("cannot push a blob of package %s: %w", ref, err)
		}
	}
	manifest, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, "", oras.PackManifestOptions{
		Layers: []ocispec.Descriptor{layerDesc}, ConfigDescriptor: &configDesc,
	})
	if err != nil {
		return fmt.Errorf("cannot push the manifest of package %s: %w", ref, err)
	}
	if err := repo.Tag(ctx, manifest, tag); err != nil {
		return fmt.Errorf("cannot tag package %s: %w", ref, err)
	}
	return nil
}
