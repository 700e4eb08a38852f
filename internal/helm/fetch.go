package helm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/provenance"
	"helm.sh/helm/v4/pkg/registry"
	repo "helm.sh/helm/v4/pkg/repo/v1"
	"sigs.k8s.io/yaml"
)

// maxProvenanceBytes bounds a provenance file, a few KiB of signed checksums.
const maxProvenanceBytes = 1 << 20

// maxIndexBytes bounds a repository's index.yaml; large public repositories' indexes are a few MiB.
const maxIndexBytes = 32 << 20

// RemoteChart names a chart in an HTTP chart repository (Repository and Name) or an OCI registry (OCI,
// as oci://host/path/chart), at an exact Version.
type RemoteChart struct {
	Repository string
	Name       string
	OCI        string
	Version    string
	// Digest, when set, pins the chart archive: sha256:<hex> of the .tgz.
	Digest string
}

func (c RemoteChart) String() string {
	if c.OCI != "" {
		return c.OCI + ":" + c.Version
	}
	return strings.TrimSuffix(c.Repository, "/") + "/" + c.Name + "@" + c.Version
}

// FetchedChart is a chart downloaded and verified, with the digest of its archive.
type FetchedChart struct {
	Chart  *chart.Chart
	Digest string
}

// Fetcher downloads charts from repositories and registries, verifies them and keeps them for the life of
// the provider process, so that one chart used by many releases is downloaded once.
type Fetcher struct {
	HTTPClient *http.Client
	// Keyring, when set, makes provenance required: a chart from a repository or registry must come with
	// a provenance file signed by a key of the keyring, whose checksum matches the archive.
	Keyring *provenance.Signatory

	mu sync.Mutex
	// archives are the verified archives downloaded so far, by chart.
	archives map[string][]byte
}

// Fetch downloads, verifies and loads a chart. A repository chart must match the digest its index
// gives; every chart must match c.Digest when that is set; archives are size-limited and loaded with
// Helm's traversal checks. A chart already fetched in this process is not downloaded again, but every
// call loads its own copy: Helm changes the charts it installs.
func (f *Fetcher) Fetch(ctx context.Context, c RemoteChart) (FetchedChart, error) {
	key := c.String()
	f.mu.Lock()
	archive, ok := f.archives[key]
	f.mu.Unlock()
	if !ok {
		var err error
		if archive, err = f.download(ctx, c); err != nil {
			return FetchedChart{}, err
		}
		f.mu.Lock()
		if f.archives == nil {
			f.archives = map[string][]byte{}
		}
		f.archives[key] = archive
		f.mu.Unlock()
	}
	sum := sha256.Sum256(archive)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	if c.Digest != "" && !strings.EqualFold(c.Digest, digest) {
		return FetchedChart{}, fmt.Errorf("chart %s has digest %s, not the pinned digest %s", c, digest, c.Digest)
	}
	ch, err := loader.LoadArchive(bytes.NewReader(archive))
	if err != nil {
		return FetchedChart{}, fmt.Errorf("cannot load chart %s: %w", c, err)
	}
	if ch.Metadata.Version != c.Version {
		return FetchedChart{}, fmt.Errorf("chart %s holds version %s", c, ch.Metadata.Version)
	}
	return FetchedChart{Chart: ch, Digest: digest}, nil
}

// download fetches a chart's archive and, when a keyring is set, verifies its provenance.
func (f *Fetcher) download(ctx context.Context, c RemoteChart) ([]byte, error) {
	var (
		archive, prov []byte
		filename      string
		err           error
	)
	if c.OCI != "" {
		archive, prov, filename, err = f.pullOCI(ctx, c)
	} else {
		archive, prov, filename, err = f.downloadFromRepository(ctx, c)
	}
	if err != nil {
		return nil, err
	}
	if f.Keyring != nil {
		if _, err := f.Keyring.Verify(archive, prov, filename); err != nil {
			return nil, fmt.Errorf("chart %s failed provenance verification against the keyring: %w", c, err)
		}
	}
	return archive, nil
}

func (f *Fetcher) client() *http.Client {
	if f.HTTPClient != nil {
		return f.HTTPClient
	}
	return &http.Client{Timeout: 2 * time.Minute}
}

// downloadFromRepository finds the chart in the repository's index and downloads its archive, checking it
// against the index's digest, and its provenance file when a keyring asks for one.
func (f *Fetcher) downloadFromRepository(ctx context.Context, c RemoteChart) (archive, prov []byte, filename string, err error) {
	base, parseErr := url.Parse(strings.TrimSuffix(c.Repository, "/") + "/")
	if parseErr != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, nil, "", fmt.Errorf("repository %q is not an http(s) URL", c.Repository)
	}
	indexURL := base.ResolveReference(&url.URL{Path: "index.yaml"})
	raw, err := f.get(ctx, indexURL.String(), maxIndexBytes)
	if err != nil {
		return nil, nil, "", fmt.Errorf("cannot read the index of repository %s: %w", c.Repository, err)
	}
	index := &repo.IndexFile{}
	if err := yaml.Unmarshal(raw, index); err != nil {
		return nil, nil, "", fmt.Errorf("the index of repository %s is not valid: %w", c.Repository, err)
	}
	versions, ok := index.Entries[c.Name]
	if !ok {
		return nil, nil, "", fmt.Errorf("repository %s has no chart %q", c.Repository, c.Name)
	}
	var entry *repo.ChartVersion
	var available []string
	for _, v := range versions {
		if v == nil || v.Metadata == nil {
			continue
		}
		available = append(available, v.Version)
		if v.Version == c.Version {
			entry = v
		}
	}
	if entry == nil {
		sort.Strings(available)
		return nil, nil, "", fmt.Errorf("repository %s has no version %s of chart %q (it has %s)", c.Repository, c.Version, c.Name, strings.Join(available, ", "))
	}
	if len(entry.URLs) == 0 {
		return nil, nil, "", fmt.Errorf("the index of repository %s gives no URL for %s", c.Repository, c)
	}
	archiveURL, err := base.Parse(entry.URLs[0])
	if err != nil {
		return nil, nil, "", fmt.Errorf("the index of repository %s gives a bad URL for %s: %w", c.Repository, c, err)
	}
	archive, err = f.get(ctx, archiveURL.String(), MaxChartArchiveBytes)
	if err != nil {
		return nil, nil, "", fmt.Errorf("cannot download chart %s: %w", c, err)
	}
	if entry.Digest != "" {
		sum := sha256.Sum256(archive)
		if got := hex.EncodeToString(sum[:]); !strings.EqualFold(strings.TrimPrefix(entry.Digest, "sha256:"), got) {
			return nil, nil, "", fmt.Errorf("chart %s has digest sha256:%s, not the repository index's %s: the archive was changed or corrupted", c, got, entry.Digest)
		}
	}
	filename = path.Base(archiveURL.Path)
	if f.Keyring != nil {
		if prov, err = f.get(ctx, archiveURL.String()+".prov", maxProvenanceBytes); err != nil {
			return nil, nil, "", fmt.Errorf("cannot download the provenance file of chart %s, which the keyring requires: %w", c, err)
		}
	}
	return archive, prov, filename, nil
}

// get reads a URL, refusing bodies over limit bytes.
func (f *Fetcher) get(ctx context.Context, target string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	resp, err := f.client().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", target, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", target, err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("GET %s: more than the %d bytes allowed", target, limit)
	}
	return body, nil
}

// pullOCI pulls the chart layer of an OCI artifact. The registry client checks every blob against the
// digest the manifest gives.
func (f *Fetcher) pullOCI(ctx context.Context, c RemoteChart) (archive, prov []byte, filename string, err error) {
	if err := ValidOCIReference(c.OCI); err != nil {
		return nil, nil, "", err
	}
	ref := strings.TrimPrefix(c.OCI, "oci://")
	host, _, _ := strings.Cut(ref, "/")
	options := []registry.ClientOption{registry.ClientOptWriter(io.Discard), registry.ClientOptHTTPClient(f.client())}
	if isLoopback(host) {
		// As container runtimes do, registries on loopback may speak plain HTTP; any other must use TLS.
		options = append(options, registry.ClientOptPlainHTTP())
	}
	client, err := registry.NewClient(options...)
	if err != nil {
		return nil, nil, "", fmt.Errorf("cannot build an OCI client: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, "", err
	}
	result, err := client.Pull(ref+":"+c.Version, registry.PullOptWithProv(f.Keyring != nil))
	if err != nil {
		return nil, nil, "", fmt.Errorf("cannot pull chart %s: %w", c, err)
	}
	if int64(len(result.Chart.Data)) > MaxChartArchiveBytes {
		return nil, nil, "", fmt.Errorf("chart %s is %d bytes, more than the %d allowed", c, len(result.Chart.Data), MaxChartArchiveBytes)
	}
	// helm push names the signed archive <chart>-<version>.tgz in the provenance file.
	filename = path.Base(ref) + "-" + c.Version + ".tgz"
	return result.Chart.Data, result.Prov.Data, filename, nil
}

func isLoopback(host string) bool {
	hostname := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		hostname = h
	}
	if hostname == "localhost" {
		return true
	}
	ip := net.ParseIP(hostname)
	return ip != nil && ip.IsLoopback()
}

// ValidOCIReference checks that ref is oci://host/path/chart, without a tag or digest: the version is
// given apart and the digest pins the archive, not the manifest.
func ValidOCIReference(ref string) error {
	rest, ok := strings.CutPrefix(ref, "oci://")
	host, path, hasPath := strings.Cut(rest, "/")
	last := path[strings.LastIndex(path, "/")+1:]
	if !ok || host == "" || !hasPath || last == "" || strings.ContainsAny(path, "@:") {
		return fmt.Errorf("OCI reference %q must be oci://host/path/chart, without a tag or digest", ref)
	}
	return nil
}

// LoadKeyring reads a PGP keyring (GnuPG's pubring.gpg or pubring.kbx, or armored public keys) for
// Fetcher.Keyring.
func LoadKeyring(file string) (*provenance.Signatory, error) {
	keyring, err := provenance.NewFromKeyring(file, "")
	if err != nil {
		return nil, fmt.Errorf("cannot read keyring %s: %w", file, err)
	}
	if len(keyring.KeyRing) == 0 {
		return nil, fmt.Errorf("keyring %s holds no keys", file)
	}
	return keyring, nil
}
