package provider

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

// Shape of BenchmarkPlan: releases spread over clusters × namespaces, as a platform team's root module
// of many services would have them.
const (
	benchClusters      = 4
	benchNamespaces    = 5
	benchPerNamespace  = 10
	benchParallelism   = "-parallelism=10"
	benchReleaseValues = `yamlencode({ image = { repository = "ghcr.io/acme/api", tag = "2.3.1" } })`
)

// BenchmarkPlan runs a no-op `tofu plan -refresh=true` as a user would, of 200 idp_app releases of the
// catalog's web-service chart over 4 workload clusters (5 namespaces of 10 each), and of 200
// terraform_data as the floor a plan of that many resources costs the CLI alone. Both are applied once,
// then planned in turn in every iteration. It reports wall time per plan of each and their ratio (target
// ≤ 2), the provider processes' CPU time and peak RSS per plan, and the API calls per plan counted by the
// 4 workload apiservers' own apiserver_request_total, beside the bound clusters × namespaces × (1 + kinds
// in the chart): one release list per namespace and one list per kind. The apiservers' background (their
// controllers, kwok), counted while the floor is applied and planned, is reported beside it, and the
// calls are logged by request (verb and resource), so the plan's own are told from the background's.
// One more plan, sampled as it runs, reports how many clusters answer at once (busy-clusters: 4 side by
// side, 1 serialised). A plan that shows changes fails the benchmark: the configuration is what was
// applied, so any change is a defect. Two more configurations of a provider that does nothing
// (noopProvider) are planned in turn with the others, and the idp plan's wall time is reported against
// each: 200 idp_noop, of two attributes, which costs what the plugin protocol and the framework cost any
// provider, and the idp plan's own configuration over idp_noop_app, of idp_app's schema, which costs what
// the framework costs for that schema. The idp plan beyond the latter is the provider's own work. It
// never asserts a time.
func BenchmarkPlan(b *testing.B) {
	shared := sandbox.ForBenchmark(b)
	clusters := benchWorkloadClusters(b)
	metrics := make([]*apiserverMetrics, len(clusters))
	for i, cluster := range clusters {
		metrics[i] = newAPIServerMetrics(b, cluster.kubeconfig)
	}

	// The clusters are registered by a configuration of their own, as a platform team's clusters are
	// by theirs, so that the plan measured is one of 200 idp_app, as the floor's is of 200 terraform_data.
	registrations := newCLIWorkspace(b, b.TempDir())
	registrations.writeConfig(b, benchClustersConfig(clusters))
	registrations.run(b, "init", "-input=false")
	if shared {
		// A sandbox that outlives the benchmark keeps no registration of a cluster stopped here, so
		// that the next run can register its clusters again. Cleanups run last first: this one before
		// the clusters stop.
		b.Cleanup(func() { registrations.run(b, "destroy", "-auto-approve", "-input=false") })
	}
	registrations.run(b, "apply", "-auto-approve", "-input=false")
	apps := newCLIWorkspace(b, b.TempDir())
	apps.writeConfig(b, benchAppsConfig(clusters, "idp_app"))
	apps.run(b, "init", "-input=false")
	if shared {
		b.Cleanup(func() { apps.run(b, "destroy", "-auto-approve", "-input=false", benchParallelism) })
	}
	started := time.Now()
	apps.run(b, "apply", "-auto-approve", "-input=false", benchParallelism)
	b.Logf("applied %d releases over %d clusters in %s", benchClusters*benchNamespaces*benchPerNamespace, benchClusters, time.Since(started).Round(time.Second))
	kinds := releasedKinds(b, apps)

	// The floor's configuration names no provider but the CLI's own, so that its plan starts none.
	floor := newCLIWorkspace(b, b.TempDir())
	config := fmt.Sprintf("resource \"terraform_data\" \"floor\" {\n  count = %d\n  input = \"item-${count.index}\"\n}\n", benchClusters*benchNamespaces*benchPerNamespace)
	if err := os.WriteFile(filepath.Join(floor.dir, "main.tf"), []byte(config), 0o644); err != nil {
		b.Fatal(err)
	}
	// Nothing but the clusters' own controllers and kwok call the apiservers while the floor is
	// applied and planned: their calls are the background that the idp plan's count also holds.
	before := readAll(b, metrics)
	started = time.Now()
	floor.run(b, "init", "-input=false")
	floor.run(b, "apply", "-auto-approve", "-input=false", benchParallelism)
	idleCalls, idleTime := sumDelta(before, readAll(b, metrics)).total(), time.Since(started)

	// The second floor is a provider that does nothing: what the idp plan costs beyond it is the
	// provider's own work, what it costs below it no provider can save.
	noop := newCLIWorkspace(b, b.TempDir())
	noop.env = append(noop.env, envServeProvider+"="+serveNoopProvider)
	noop.writeConfig(b, fmt.Sprintf("resource \"idp_noop\" \"floor\" {\n  count = %d\n  input = \"item-${count.index}\"\n}\n", benchClusters*benchNamespaces*benchPerNamespace))
	noop.run(b, "init", "-input=false")
	noop.run(b, "apply", "-auto-approve", "-input=false", benchParallelism)
	// The third floor is the idp plan's configuration over a resource of idp_app's schema that does
	// nothing: what the framework costs for that schema, which no provider of it can save.
	noopApps := newCLIWorkspace(b, b.TempDir())
	noopApps.env = append(noopApps.env, envServeProvider+"="+serveNoopProvider)
	noopApps.writeConfig(b, benchAppsConfig(clusters, "idp_noop_app"))
	noopApps.run(b, "init", "-input=false")
	noopApps.run(b, "apply", "-auto-approve", "-input=false", benchParallelism)

	var (
		appsWall, floorWall, noopWall, noopAppsWall time.Duration
		providerCPU, noopCPU, noopAppsCPU           time.Duration
		peakRSS                                     int64
		apiCalls                                    = requestCounts{}
		processes                                   int
	)
	for b.Loop() {
		before = readAll(b, metrics)
		wall, usage := benchPlan(b, apps)
		if usage.processes == 0 {
			b.Fatal("no provider process of the plan recorded its rusage, so CPU and RSS would read 0")
		}
		apiCalls.add(sumDelta(before, readAll(b, metrics)))
		appsWall += wall
		providerCPU += usage.cpu
		peakRSS = max(peakRSS, usage.peakRSS)
		processes += usage.processes

		before = readAll(b, metrics)
		wall, _ = benchPlan(b, floor)
		idleCalls += sumDelta(before, readAll(b, metrics)).total()
		idleTime += wall
		floorWall += wall

		wall, usage = benchPlan(b, noop)
		if usage.processes == 0 {
			b.Fatal("no noop provider process of the plan recorded its rusage, so its CPU would read 0")
		}
		noopWall += wall
		noopCPU += usage.cpu

		wall, usage = benchPlan(b, noopApps)
		if usage.processes == 0 {
			b.Fatal("no noop provider process of the idp_noop_app plan recorded its rusage, so its CPU would read 0")
		}
		noopAppsWall += wall
		noopAppsCPU += usage.cpu
	}
	busy := busyClusters(b, apps, metrics)
	plans := float64(b.N)
	b.ReportMetric(appsWall.Seconds()/plans, "idp-plan-s")
	b.ReportMetric(floorWall.Seconds()/plans, "floor-plan-s")
	b.ReportMetric(appsWall.Seconds()/floorWall.Seconds(), "x-floor-wall")
	b.ReportMetric(noopWall.Seconds()/plans, "noop-provider-plan-s")
	b.ReportMetric(noopCPU.Seconds()/plans, "noop-provider-cpu-s/plan")
	b.ReportMetric(appsWall.Seconds()/noopWall.Seconds(), "x-noop-provider-wall")
	b.ReportMetric(noopAppsWall.Seconds()/plans, "noop-app-schema-plan-s")
	b.ReportMetric(noopAppsCPU.Seconds()/plans, "noop-app-schema-cpu-s/plan")
	b.ReportMetric(appsWall.Seconds()/noopAppsWall.Seconds(), "x-noop-app-schema-wall")
	b.ReportMetric(providerCPU.Seconds()/plans, "provider-cpu-s/plan")
	b.ReportMetric(float64(processes)/plans, "provider-processes/plan")
	b.ReportMetric(float64(peakRSS)/(1<<20), "provider-peak-rss-MiB")
	b.ReportMetric(apiCalls.total()/plans, "api-calls/plan")
	b.ReportMetric(idleCalls/idleTime.Seconds()*appsWall.Seconds()/plans, "background-api-calls/plan")
	b.ReportMetric(float64(benchClusters*benchNamespaces*(1+len(kinds))), "api-calls-bound")
	b.ReportMetric(busy, "busy-clusters")
	b.Logf("API calls per idp plan, by request (background included): %s", apiCalls.per(plans))
}

// benchCluster is a workload cluster BenchmarkPlan releases to.
type benchCluster struct {
	name       string
	kubeconfig string // path of the admin kubeconfig
}

// benchWorkloadClusters returns the sandbox's workload cluster and as many more, started here and
// stopped when the benchmark ends, as make up benchClusters.
func benchWorkloadClusters(b *testing.B) []benchCluster {
	b.Helper()
	names := make([]string, benchClusters-1)
	for i := range names {
		names[i] = fmt.Sprintf("bench-%d", i+1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	sb, started, err := sandbox.StartWorkloadClusters(ctx, sandbox.Options{Log: os.Stderr}, names...)
	if err != nil {
		b.Fatalf("cannot start %d more workload clusters: %v", len(names), err)
	}
	b.Cleanup(func() { _ = sb.Stop() })
	clusters := []benchCluster{{name: "bench-0", kubeconfig: os.Getenv(sandbox.EnvWorkloadKubeconfig)}}
	for _, cluster := range started {
		clusters = append(clusters, benchCluster{name: cluster.Name, kubeconfig: cluster.KubeconfigPath})
	}
	return clusters
}

// benchAppsConfig releases benchPerNamespace apps in each of benchNamespaces namespaces of every
// cluster that benchClustersConfig registered.
func benchAppsConfig(clusters []benchCluster, resourceType string) string {
	names := make([]string, len(clusters))
	for i, cluster := range clusters {
		names[i] = strconv.Quote(cluster.name)
	}
	return fmt.Sprintf(`provider "idp" {}

locals {
  clusters = [%s]
  # Keyed with the cluster last, so that instances in key order take turns among the clusters.
  apps = {
    for triple in setproduct(range(%d), range(%d), local.clusters) :
    "ns-${triple[0]}/app-${triple[1]}/${triple[2]}" => { namespace = "ns-${triple[0]}", name = "app-${triple[1]}", cluster = triple[2] }
  }
}

resource %q "bench" {
  for_each  = local.apps
  cluster   = each.value.cluster
  namespace = each.value.namespace
  name      = each.value.name
  chart     = { catalog = "web-service", version = "1.0.0" }
  values    = %s
}
`, strings.Join(names, ", "), benchNamespaces, benchPerNamespace, resourceType, benchReleaseValues)
}

// benchClustersConfig registers the benchmark's clusters with the platform.
func benchClustersConfig(clusters []benchCluster) string {
	var config strings.Builder
	config.WriteString("provider \"idp\" {}\n\nlocals {\n  kubeconfigs = {\n")
	for _, cluster := range clusters {
		fmt.Fprintf(&config, "    %q = %q\n", cluster.name, cluster.kubeconfig)
	}
	config.WriteString(`  }
}

resource "idp_cluster" "bench" {
  for_each      = local.kubeconfigs
  name          = each.key
  cloud         = "existing"
  kubeconfig_wo = file(each.value)
}
`)
	return config.String()
}

// releasedKinds are the kinds of the objects the applied releases hold, from their `resources`.
func releasedKinds(b *testing.B, w *cliWorkspace) map[string]bool {
	b.Helper()
	var state struct {
		Values struct {
			RootModule struct {
				Resources []struct {
					Type   string `json:"type"`
					Values struct {
						Resources []string `json:"resources"`
					} `json:"values"`
				} `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	if err := json.Unmarshal([]byte(w.run(b, "show", "-json")), &state); err != nil {
		b.Fatalf("cannot decode `tofu show -json`: %v", err)
	}
	kinds := map[string]bool{}
	for _, resource := range state.Values.RootModule.Resources {
		if resource.Type != "idp_app" {
			continue
		}
		for _, object := range resource.Values.Resources {
			kind, _, _ := strings.Cut(object, "/")
			kinds[kind] = true
		}
	}
	if len(kinds) == 0 {
		b.Fatal("the state names no object of any release")
	}
	return kinds
}

// planUsage is what the provider processes of one plan cost.
type planUsage struct {
	cpu       time.Duration
	peakRSS   int64
	processes int
}

// benchPlan runs a no-op plan in w and returns its wall time and what the provider processes it started
// reported on exit.
func benchPlan(b *testing.B, w *cliWorkspace) (time.Duration, planUsage) {
	b.Helper()
	dir, err := os.MkdirTemp(w.dir, "rusage-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	plan := w.command("plan", "-refresh=true", "-detailed-exitcode", "-input=false", benchParallelism)
	plan.Env = append(plan.Env, envProviderRusageDir+"="+dir)
	started := time.Now()
	out, err := plan.CombinedOutput()
	wall := time.Since(started)
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit) && exit.ExitCode() == 2:
		b.Fatalf("the plan of what was just applied shows changes:\n%s", out)
	case err != nil:
		b.Fatalf("tofu plan: %v\n%s", err, out)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	var usage planUsage
	for _, entry := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, entry.Name()))
		if err != nil {
			b.Fatal(err)
		}
		var process providerRusage
		if err := json.Unmarshal(raw, &process); err != nil {
			b.Fatalf("cannot decode the rusage in %s: %v", entry.Name(), err)
		}
		usage.cpu += time.Duration(process.CPUSeconds * float64(time.Second))
		usage.peakRSS = max(usage.peakRSS, process.MaxRSSBytes)
		usage.processes++
	}
	return wall, usage
}

// apiserverMetrics reads an apiserver's request counters as its administrator.
type apiserverMetrics struct {
	clientset kubernetes.Interface
}

func newAPIServerMetrics(b *testing.B, kubeconfig string) *apiserverMetrics {
	b.Helper()
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		b.Fatal(err)
	}
	clientset, err := kubernetes.NewForConfig(config)
	if err != nil {
		b.Fatal(err)
	}
	return &apiserverMetrics{clientset: clientset}
}

// requests is every request the apiserver answered so far.
func (m *apiserverMetrics) requests(ctx context.Context) (requestCounts, error) {
	raw, err := m.clientset.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot read the apiserver's metrics: %w", err)
	}
	return parseRequestCounts(raw)
}

// requestCounts counts requests by what they asked for: "VERB group/resource/subresource", the response
// code aside.
type requestCounts map[string]float64

func (c requestCounts) total() float64 {
	var total float64
	for _, n := range c {
		total += n
	}
	return total
}

func (c requestCounts) add(other requestCounts) {
	for request, n := range other {
		c[request] += n
	}
}

// per lists the requests made with their counts divided by n, the most frequent first, on one line (a
// benchmark's log is cut after a few lines).
func (c requestCounts) per(n float64) string {
	requests := make([]string, 0, len(c))
	for request, count := range c {
		if count > 0 {
			requests = append(requests, request)
		}
	}
	sort.Slice(requests, func(i, j int) bool {
		if c[requests[i]] != c[requests[j]] {
			return c[requests[i]] > c[requests[j]]
		}
		return requests[i] < requests[j]
	})
	listed := make([]string, len(requests))
	for i, request := range requests {
		listed[i] = fmt.Sprintf("%.1f %s", c[request]/n, request)
	}
	return strings.Join(listed, ", ")
}

var metricLabel = regexp.MustCompile(`(\w+)="([^"]*)"`)

// parseRequestCounts reads every series of apiserver_request_total in an exposition of Prometheus
// metrics.
func parseRequestCounts(metrics []byte) (requestCounts, error) {
	counts := requestCounts{}
	scanner := bufio.NewScanner(bytes.NewReader(metrics))
	scanner.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for scanner.Scan() {
		line := scanner.Text()
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		end := strings.LastIndexByte(line, '}')
		if end < 0 {
			return nil, fmt.Errorf("metric line %q has no end to its labels", line)
		}
		value, err := strconv.ParseFloat(strings.TrimSpace(line[end+1:]), 64)
		if err != nil {
			return nil, fmt.Errorf("cannot parse metric line %q: %w", line, err)
		}
		labels := map[string]string{}
		for _, match := range metricLabel.FindAllStringSubmatch(line[:end], -1) {
			labels[match[1]] = match[2]
		}
		counts[requestOf(labels)] += value
	}
	return counts, scanner.Err()
}

// requestOf names a series' request by its verb and what it asked for.
func requestOf(labels map[string]string) string {
	what := labels["resource"]
	if what == "" {
		return labels["verb"] + " (not a resource)"
	}
	if group := labels["group"]; group != "" {
		what = group + "/" + what
	}
	if sub := labels["subresource"]; sub != "" {
		what += "/" + sub
	}
	return labels["verb"] + " " + what
}

// readAll reads the request counters of every cluster at once, so that the reads bracket a plan closely.
func readAll(b *testing.B, metrics []*apiserverMetrics) []requestCounts {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	counts, err := readCounts(ctx, metrics)
	if err != nil {
		b.Fatal(err)
	}
	return counts
}

func readCounts(ctx context.Context, metrics []*apiserverMetrics) ([]requestCounts, error) {
	counts := make([]requestCounts, len(metrics))
	errs := make([]error, len(metrics))
	var wg sync.WaitGroup
	for i, m := range metrics {
		wg.Go(func() { counts[i], errs[i] = m.requests(ctx) })
	}
	wg.Wait()
	return counts, errors.Join(errs...)
}

// busyClusters runs one more plan, untimed as sampling costs CPU, while it samples every cluster's
// request counter, and returns how many clusters were answering requests on average in the intervals
// where any was: about the number of clusters when a refresh works on them side by side, about 1 when
// something serialises it across clusters.
func busyClusters(b *testing.B, w *cliWorkspace, metrics []*apiserverMetrics) float64 {
	b.Helper()
	// More requests in one interval than the clusters' own controllers make (a few in ten seconds).
	const interval, busy = 200 * time.Millisecond, 2
	// Stopped by a channel rather than by cancelling the reads, which would log the read it cuts short.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	stop, samples := make(chan struct{}), make(chan [][]float64, 1)
	go func() {
		var taken [][]float64
		defer func() { samples <- taken }()
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			if counts, err := readCounts(ctx, metrics); err == nil {
				totals := make([]float64, len(counts))
				for i, c := range counts {
					totals[i] = c.total()
				}
				taken = append(taken, totals)
			}
			select {
			case <-stop:
				return
			case <-ticker.C:
			}
		}
	}()
	// A failed plan ends the benchmark here (Goexit); the sampler stops with it.
	var once sync.Once
	halt := func() { once.Do(func() { close(stop) }) }
	defer halt()
	benchPlan(b, w)
	halt()
	taken := <-samples
	intervals, busySum := 0, 0
	for i := 1; i < len(taken); i++ {
		n := 0
		for cluster := range taken[i] {
			if taken[i][cluster]-taken[i-1][cluster] >= busy {
				n++
			}
		}
		if n > 0 {
			intervals++
			busySum += n
		}
	}
	if intervals == 0 {
		return 0
	}
	return float64(busySum) / float64(intervals)
}

// sumDelta is the requests counted between two reads over every cluster (reading /metrics is not
// counted).
func sumDelta(before, after []requestCounts) requestCounts {
	calls := requestCounts{}
	for i := range before {
		for request, n := range after[i] {
			calls[request] += n - before[i][request]
		}
	}
	return calls
}

func TestParseRequestCounts(t *testing.T) {
	for _, tc := range []struct {
		reason  string
		metrics string
		want    requestCounts
		wantErr bool
	}{
		{
			reason: "series are counted by verb and what they asked for, codes summed, and no other metric",
			metrics: `# HELP apiserver_request_total [STABLE] Counter of apiserver requests
# TYPE apiserver_request_total counter
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="secrets",scope="namespace",subresource="",verb="LIST",version="v1"} 25
apiserver_request_total{code="200",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="",verb="GET",version="v1"} 4
apiserver_request_total{code="404",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="",verb="GET",version="v1"} 3
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="status",verb="PATCH",version="v1"} 2
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="",scope="",subresource="/version",verb="GET",version=""} 1
apiserver_request_duration_seconds_count{verb="LIST"} 1000
apiserver_request_total_other 7
`,
			want: requestCounts{
				"LIST secrets":         25,
				"GET apps/deployments": 7,
				"PATCH pods/status":    2,
				"GET (not a resource)": 1,
			},
		},
		{
			reason:  "an apiserver that answered nothing yet has no series",
			metrics: "# TYPE apiserver_request_total counter\n",
			want:    requestCounts{},
		},
		{
			reason:  "a value that is not a number is an error, not a silent zero",
			metrics: `apiserver_request_total{verb="GET"} many` + "\n",
			wantErr: true,
		},
	} {
		got, err := parseRequestCounts([]byte(tc.metrics))
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: error %v, want error %t", tc.reason, err, tc.wantErr)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: counts (-want +got):\n%s", tc.reason, diff)
		}
	}
}

func TestRequestCountsPer(t *testing.T) {
	counts := requestCounts{"LIST secrets": 60, "LIST apps/deployments": 60, "GET (not a resource)": 3, "PUT coordination.k8s.io/leases": 0}
	want := "20.0 LIST apps/deployments, 20.0 LIST secrets, 1.0 GET (not a resource)"
	if diff := cmp.Diff(want, counts.per(3)); diff != "" {
		t.Errorf("the most frequent request first, ties by name, none that was not made (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(123.0, counts.total()); diff != "" {
		t.Errorf("total (-want +got):\n%s", diff)
	}
}
