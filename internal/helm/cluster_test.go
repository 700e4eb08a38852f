package helm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"

	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

// sandboxes are the bare clusters started by this package's acceptance tests and benchmarks, stopped by
// TestMain.
var (
	sandboxesMu sync.Mutex
	sandboxes   []*sandbox.Sandbox
)

func TestMain(m *testing.M) {
	code := m.Run()
	sandboxesMu.Lock()
	for _, sb := range sandboxes {
		_ = sb.Stop()
	}
	sandboxesMu.Unlock()
	os.Exit(code)
}

// startClusters starts n bare Kubernetes clusters (API server and controller-manager, no nodes) and
// returns their admin kubeconfigs.
func startClusters(tb testing.TB, n int) [][]byte {
	tb.Helper()
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("cluster-%d", i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	sb, paths, err := sandbox.StartClusters(ctx, sandbox.Options{}, names...)
	if err != nil {
		tb.Fatalf("cannot start %d clusters: %v", n, err)
	}
	sandboxesMu.Lock()
	sandboxes = append(sandboxes, sb)
	sandboxesMu.Unlock()
	kubeconfigs := make([][]byte, n)
	for i, path := range paths {
		if kubeconfigs[i], err = os.ReadFile(path); err != nil {
			tb.Fatal(err)
		}
	}
	return kubeconfigs
}

// configMapChart is the smallest useful chart: one ConfigMap, so releases install without nodes.
func configMapChart() *chart.Chart {
	return &chart.Chart{
		Metadata: &chart.Metadata{APIVersion: "v2", Name: "config", Version: "0.1.0"},
		Templates: []*common.File{{Name: "templates/configmap.yaml", Data: []byte(
			"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  greeting: {{ .Values.greeting | quote }}\n")}},
		Values: map[string]any{"greeting": "hello"},
	}
}

// apiCalls counts the requests an engine sends, the release-secret reads among them, and the reads of
// other objects by resource ("configmaps", or "namespace/configmaps" when namespaced).
type apiCalls struct {
	total       atomic.Int64
	secretLists atomic.Int64
	secretGets  atomic.Int64

	mu          sync.Mutex
	objectLists map[string]int
	objectGets  map[string]int
}

func (c *apiCalls) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		c.total.Add(1)
		if req.Method == http.MethodGet {
			switch path := req.URL.Path; {
			case strings.HasSuffix(path, "/secrets"):
				c.secretLists.Add(1)
			case strings.Contains(path, "/secrets/"):
				c.secretGets.Add(1)
			default:
				c.countObjectRead(path)
			}
		}
		return next.RoundTrip(req)
	})
}

// countObjectRead classifies a GET of /api/v1/... or /apis/group/version/... as a list or a get of a
// resource; discovery requests (no resource in the path) are not counted.
func (c *apiCalls) countObjectRead(path string) {
	var rest string
	if after, ok := strings.CutPrefix(path, "/api/v1/"); ok {
		rest = after
	} else if after, ok := strings.CutPrefix(path, "/apis/"); ok {
		parts := strings.SplitN(after, "/", 3)
		if len(parts) < 3 {
			return
		}
		rest = parts[2]
	} else {
		return
	}
	segments := strings.Split(strings.Trim(rest, "/"), "/")
	var resource string
	var get bool
	switch {
	case len(segments) >= 3 && segments[0] == "namespaces":
		resource, get = segments[1]+"/"+segments[2], len(segments) > 3
	case len(segments) >= 1 && segments[0] != "":
		resource, get = segments[0], len(segments) > 1
	default:
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	counts := &c.objectLists
	if get {
		counts = &c.objectGets
	}
	if *counts == nil {
		*counts = map[string]int{}
	}
	(*counts)[resource]++
}

// objectReads returns the lists and gets of objects counted so far.
func (c *apiCalls) objectReads() (lists, gets map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	lists, gets = map[string]int{}, map[string]int{}
	for k, v := range c.objectLists {
		lists[k] = v
	}
	for k, v := range c.objectGets {
		gets[k] = v
	}
	return lists, gets
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// installReleases installs perNamespace releases of configMapChart in each namespace, without waiting.
func installReleases(tb testing.TB, kubeconfig []byte, namespaces []string, perNamespace int) {
	tb.Helper()
	engine, err := NewEngine(kubeconfig)
	if err != nil {
		tb.Fatal(err)
	}
	for _, namespace := range namespaces {
		for i := range perNamespace {
			spec := Spec{Namespace: namespace, Name: fmt.Sprintf("app-%d", i), Chart: configMapChart(), Timeout: time.Minute, MaxHistory: 10}
			if _, err := engine.Install(context.Background(), spec); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

func TestAccFindListsReleasesOncePerNamespace(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("starts a cluster; runs with TF_ACC")
	}
	kubeconfig := startClusters(t, 1)[0]
	installReleases(t, kubeconfig, []string{"team-a", "team-b"}, 3)
	// A second revision: Find must answer with the latest one.
	upgrader, err := NewEngine(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	upgraded := configMapChart()
	if _, err := upgrader.Upgrade(context.Background(), Spec{Namespace: "team-a", Name: "app-0", Chart: upgraded, Values: map[string]any{"greeting": "hi"}, Timeout: time.Minute, MaxHistory: 10}); err != nil {
		t.Fatal(err)
	}

	var calls apiCalls
	engine, err := NewEngine(kubeconfig, WithTransport(calls.wrap))
	if err != nil {
		t.Fatal(err)
	}
	for _, namespace := range []string{"team-a", "team-b"} {
		for i := range 3 {
			rel, err := engine.Find(context.Background(), namespace, fmt.Sprintf("app-%d", i))
			if err != nil {
				t.Fatal(err)
			}
			wantRevision := 1
			if namespace == "team-a" && i == 0 {
				wantRevision = 2
			}
			if rel.Revision != wantRevision || rel.Status != "deployed" {
				t.Errorf("Find(%s, app-%d) = revision %d %s, want revision %d deployed", namespace, i, rel.Revision, rel.Status, wantRevision)
			}
		}
	}
	if got, want := calls.secretLists.Load(), int64(2); got != want {
		t.Errorf("six releases in two namespaces were read with %d lists, want %d", got, want)
	}
	// A name the list lacks is read once more, since the list leaves superseded revisions out.
	if _, err := engine.Find(context.Background(), "team-a", "app-9"); !errors.Is(err, ErrReleaseNotFound) {
		t.Errorf("Find of a release that does not exist: %v, want ErrReleaseNotFound", err)
	}
	if got, want := calls.secretLists.Load(), int64(3); got != want {
		t.Errorf("after a Find of a missing release the lists are %d, want %d (one read of its records)", got, want)
	}
	if got := calls.secretGets.Load(); got != 0 {
		t.Errorf("reading releases through the list got %d release secrets one by one, want none", got)
	}

	// The engine's own change to a namespace is seen by the next Find, which lists that namespace again.
	if _, err := engine.Upgrade(context.Background(), Spec{Namespace: "team-b", Name: "app-1", Chart: upgraded, Timeout: time.Minute, MaxHistory: 10}); err != nil {
		t.Fatal(err)
	}
	listsBefore := calls.secretLists.Load()
	rel, err := engine.Find(context.Background(), "team-b", "app-1")
	if err != nil {
		t.Fatal(err)
	}
	if rel.Revision != 2 {
		t.Errorf("after an upgrade Find returned revision %d, want 2", rel.Revision)
	}
	if got := calls.secretLists.Load() - listsBefore; got != 1 {
		t.Errorf("after an upgrade Find listed %d times, want 1", got)
	}
}
