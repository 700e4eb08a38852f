package policy

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// writeFiles writes files (name → content) under a new directory and returns it.
func writeFiles(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func newEngine(t testing.TB, cfg Config) *Engine {
	t.Helper()
	e, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

func access(role string, actions ...string) ResourceChange {
	if len(actions) == 0 {
		actions = []string{"create"}
	}
	after := map[string]any{"cluster": "payments-prod", "group": "payments-oncall", "role": role, "namespaces": nil}
	if len(actions) == 1 && actions[0] == "delete" {
		after = nil
	}
	return ResourceChange{Address: "idp_access.oncall", Type: "idp_access", Name: "oncall", Change: Change{Actions: actions, After: after}}
}

func cluster(maxSize int, tags map[string]any) ResourceChange {
	return ResourceChange{Address: "idp_cluster.payments", Type: "idp_cluster", Name: "payments", Change: Change{
		Actions: []string{"create"},
		After: map[string]any{
			"name": "payments", "cloud": "aws", "region": "eu-west-1", "kubernetes_version": "1.33",
			"node_pools": map[string]any{"default": map[string]any{"instance_type": "m6i.large", "min_size": 1, "max_size": maxSize}},
			"tags":       tags,
		},
	}}
}

var goodTags = map[string]any{"team": "payments", "cost-center": "cc-1042"}

const adminMessage = `idp_access.oncall: cluster-admin on cluster "payments-prod" is reserved for the platform team and this plan runs for team "payments": grant admin on the team's namespaces instead (role = "admin", namespaces = [...]), or have the platform team make this grant`

func TestEvaluate(t *testing.T) {
	payments := Context{Team: "payments", Identity: "alice"}
	cases := []struct {
		reason string
		cfg    Config
		in     Input
		want   []Result
	}{
		{
			reason: "cluster-admin outside the platform team is denied, on the role attribute",
			in:     Input{Change: access("cluster-admin"), IDP: payments},
			want:   []Result{{Rule: "deny_cluster_admin", Severity: SeverityError, Message: adminMessage, Path: []string{"role"}}},
		},
		{
			reason: "the platform team grants cluster-admin",
			in:     Input{Change: access("cluster-admin"), IDP: Context{Team: "platform"}},
		},
		{
			reason: "other roles pass",
			in:     Input{Change: access("edit"), IDP: payments},
		},
		{
			reason: "revoking cluster-admin (a destroy) is never denied",
			in:     Input{Change: access("cluster-admin", "delete"), IDP: payments},
		},
		{
			reason: "a replacement is checked like a create",
			in:     Input{Change: access("cluster-admin", "delete", "create"), IDP: payments},
			want:   []Result{{Rule: "deny_cluster_admin", Severity: SeverityError, Message: adminMessage, Path: []string{"role"}}},
		},
		{
			reason: "advisory enforcement reports denials as warnings",
			cfg:    Config{Enforcement: EnforcementAdvisory},
			in:     Input{Change: access("cluster-admin"), IDP: payments},
			want:   []Result{{Rule: "deny_cluster_admin", Severity: SeverityWarning, Message: adminMessage, Path: []string{"role"}}},
		},
		{
			reason: "a missing required tag warns",
			in:     Input{Change: cluster(3, map[string]any{"team": "payments"})},
			want: []Result{{Rule: "warn_required_tags", Severity: SeverityWarning, Path: []string{"tags"},
				Message: `idp_cluster.payments: the cluster lacks the tag(s) cost-center, which attribute its cloud costs and ownership: add them, e.g. tags = { "cost-center" = "..." }`}},
		},
		{
			reason: "a pool beyond its environment's limit is denied on its max_size; the cluster context sets the environment",
			in:     Input{Change: cluster(60, goodTags), IDP: Context{Cluster: &ClusterContext{Name: "payments", Cloud: "aws", Environment: "production"}}},
			want: []Result{{Rule: "deny_pool_size", Severity: SeverityError, Path: []string{"node_pools", "default", "max_size"},
				Message: `idp_cluster.payments: node pool "default" may grow to 60 nodes; environment "production" allow at most 50 per pool: lower max_size, or spread the workload over more pools or clusters`}},
		},
		{
			reason: "a pool beyond the default limit is denied on its max_size",
			in:     Input{Change: cluster(11, goodTags)},
			want: []Result{{Rule: "deny_pool_size", Severity: SeverityError, Path: []string{"node_pools", "default", "max_size"},
				Message: `idp_cluster.payments: node pool "default" may grow to 11 nodes; clusters of no known environment allow at most 10 per pool: lower max_size, or spread the workload over more pools or clusters`}},
		},
		{
			reason: "the environment label of the cluster counts when the environment is empty",
			in: Input{Change: cluster(11, goodTags), IDP: Context{Cluster: &ClusterContext{
				Labels: map[string]string{"platform.idp.dev/environment": "staging"}}}},
		},
		{
			reason: "a value known only at apply is not denied but warned about",
			in: Input{Change: ResourceChange{Address: "idp_access.oncall", Type: "idp_access", Change: Change{
				Actions: []string{"create"}, After: map[string]any{"cluster": "payments-prod"}, AfterUnknown: map[string]any{"role": true}}}, IDP: payments},
			want: []Result{{Rule: "warn_unknown", Severity: SeverityWarning, Path: []string{"role"},
				Message: "idp_access.oncall: role is only known at apply, so the platform's policies could not check it: make it known at plan (a literal or a variable) to have it checked"}},
		},
		{
			reason: "without an address the message names no resource",
			in:     Input{Change: ResourceChange{Type: "idp_cluster", Change: cluster(3, map[string]any{"team": "payments", "cost-center": "x"}).Change}},
		},
		{
			reason: "an exception of the deployment's own exempts deny_ rules by their name",
			cfg: Config{Paths: []string{writeFiles(t, map[string]string{"breakglass.rego": `package main
exception contains rules if {
	input.idp.identity == "breakglass"
	rules := ["cluster_admin"]
}`})}},
			in: Input{Change: access("cluster-admin"), IDP: Context{Team: "payments", Identity: "breakglass"}},
		},
		{
			reason: "settings from a data file change the library's numbers and switch rules off",
			cfg: Config{Paths: []string{writeFiles(t, map[string]string{"settings.json": `{"idp_policy": {
				"max_pool_nodes": {"default": 5}, "disabled_rules": ["cluster_admin"]}}`})}},
			in: Input{Change: cluster(6, goodTags)},
			want: []Result{{Rule: "deny_pool_size", Severity: SeverityError, Path: []string{"node_pools", "default", "max_size"},
				Message: `idp_cluster.payments: node pool "default" may grow to 6 nodes; clusters of no known environment allow at most 5 per pool: lower max_size, or spread the workload over more pools or clusters`}},
		},
		{
			reason: "a deployment's rules: strings, objects with a dotted or listed path, booleans, packages under a namespace",
			cfg: Config{NoDefaultLibrary: true, Namespaces: []string{"main", "team"}, Paths: []string{writeFiles(t, map[string]string{
				"main.rego": `package main
deny contains "no apps on Fridays" if input.resource_changes[0].type == "idp_app"
warn_pool contains {"msg": "pool", "path": ["node_pools", 0, "max_size"]} if input.resource_changes[0].type == "idp_app"
`,
				"team/payments.rego": `package team.payments
violation_image contains {"msg": "image", "path": "values.image"} if input.resource_changes[0].type == "idp_app"
deny_flag if input.resource_changes[0].type == "idp_app"
`,
				"team/root.rego": `package team
warn contains {"msg": "root"} if true
`,
			})}},
			in: Input{Change: ResourceChange{Type: "idp_app", Change: Change{Actions: []string{"update"}, After: map[string]any{}}}},
			want: []Result{
				{Rule: "deny", Severity: SeverityError, Message: "no apps on Fridays"},
				{Rule: "warn_pool", Severity: SeverityWarning, Message: "pool", Path: []string{"node_pools", "0", "max_size"}},
				{Rule: "warn", Severity: SeverityWarning, Message: "root"},
				{Rule: "payments.deny_flag", Severity: SeverityError, Message: "policy rule payments.deny_flag holds for this change"},
				{Rule: "payments.violation_image", Severity: SeverityError, Message: "image", Path: []string{"values", "image"}},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.reason, func(t *testing.T) {
			e := newEngine(t, tc.cfg)
			got, err := e.Evaluate(context.Background(), tc.in)
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: results (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestRules(t *testing.T) {
	want := []string{
		"deny_cluster_admin", "deny_cluster_size", "deny_instance_type", "deny_pool_size", "deny_production_chart",
		"deny_required_tags", "warn_required_tags", "warn_unknown", "warn_unpinned_addon",
	}
	if diff := cmp.Diff(want, newEngine(t, Config{}).Rules()); diff != "" {
		t.Errorf("the shipped library's rules (-want +got):\n%s", diff)
	}
}

func TestNewFailsClosed(t *testing.T) {
	cases := []struct {
		reason string
		cfg    Config
		want   string // in the error
	}{
		{
			reason: "a file that does not parse",
			cfg:    Config{Paths: []string{writeFiles(t, map[string]string{"broken.rego": "package main\ndeny contains msg if {"})}},
			want:   "cannot load the policies of",
		},
		{
			reason: "a file that does not compile",
			cfg:    Config{Paths: []string{writeFiles(t, map[string]string{"unsafe.rego": "package main\ndeny contains msg if { x == 1 }"})}},
			want:   "cannot compile the policies",
		},
		{
			reason: "Rego v0 syntax",
			cfg:    Config{Paths: []string{writeFiles(t, map[string]string{"v0.rego": "package main\ndeny[msg] { msg := \"x\" }"})}},
			want:   "cannot load the policies of",
		},
		{
			reason: "http.send reaches the network",
			cfg: Config{Paths: []string{writeFiles(t, map[string]string{"http.rego": `package main
deny contains "x" if http.send({"method": "GET", "url": "http://127.0.0.1:1"}).status_code == 200`})}},
			want: "undefined function http.send",
		},
		{
			reason: "time.now_ns makes the verdict depend on the clock",
			cfg: Config{Paths: []string{writeFiles(t, map[string]string{"time.rego": `package main
warn contains "late" if time.now_ns() > 0`})}},
			want: "undefined function time.now_ns",
		},
		{
			reason: "a set with no rules",
			cfg: Config{NoDefaultLibrary: true, Paths: []string{writeFiles(t, map[string]string{"helpers.rego": `package main
allow if true`})}},
			want: "the policies define no deny, violation or warn rules in the package(s) main",
		},
		{
			reason: "rules outside the namespaces count as none",
			cfg: Config{NoDefaultLibrary: true, Namespaces: []string{"platform"}, Paths: []string{writeFiles(t, map[string]string{"other.rego": `package mainly
deny contains "x" if true`})}},
			want: "the policies define no deny, violation or warn rules in the package(s) platform",
		},
		{
			reason: "nothing configured without the library",
			cfg:    Config{NoDefaultLibrary: true},
			want:   "define no deny, violation or warn rules",
		},
		{
			reason: "a path that does not exist",
			cfg:    Config{Paths: []string{filepath.Join(t.TempDir(), "missing")}},
			want:   "cannot load the policies of",
		},
		{
			reason: "a bundle that does not exist",
			cfg:    Config{Bundle: filepath.Join(t.TempDir(), "missing.tar.gz")},
			want:   "cannot load the policy bundle",
		},
		{
			reason: "data files that disagree",
			cfg: Config{Paths: []string{
				writeFiles(t, map[string]string{"a.json": `{"idp_policy": {"platform_team": "sre"}}`}),
				writeFiles(t, map[string]string{"b.json": `{"idp_policy": {"platform_team": "ops"}}`}),
			}},
			want: "platform_team",
		},
		{
			reason: "the library given again in Paths",
			cfg:    Config{Paths: []string{"../../policy"}},
			want:   "cannot compile the policies",
		},
		{
			reason: "an unknown enforcement",
			cfg:    Config{Enforcement: "strict"},
			want:   `unknown policy enforcement "strict"`,
		},
		{
			reason: "a namespace that is no package",
			cfg:    Config{Namespaces: []string{"data.main"}},
			want:   `policy namespace "data.main"`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.reason, func(t *testing.T) {
			_, err := New(context.Background(), tc.cfg)
			t.Log(err)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: New error = %v, want one containing %q", tc.reason, err, tc.want)
			}
		})
	}
}

func TestEvaluateFailsClosed(t *testing.T) {
	cases := []struct {
		reason string
		policy string
		want   string
	}{
		{
			reason: "a result object without msg",
			policy: `deny contains {"message": "x"} if true`,
			want:   "policy rule deny: a result object needs msg, a string: got null",
		},
		{
			reason: "a result of the wrong type",
			policy: `deny contains 42 if true`,
			want:   "policy rule deny: a result must be a message or an object with msg, not a number",
		},
		{
			reason: "a path of the wrong type",
			policy: `deny contains {"msg": "x", "path": {"a": 1}} if true`,
			want:   "a result's path must be a list or a dotted string, not an object",
		},
		{
			reason: "a built-in failing at evaluation",
			policy: `deny contains "x" if to_number(input.resource_changes[0].change.after.size) > 1`,
			want:   "cannot evaluate the policies for idp_app.x",
		},
		{
			reason: "an exception that is not a list of names",
			policy: "deny_x contains \"x\" if true\nexception contains 1 if true",
			want:   "exception must be a set of lists of rule names, not a set of a number",
		},
	}
	for _, tc := range cases {
		t.Run(tc.reason, func(t *testing.T) {
			e := newEngine(t, Config{NoDefaultLibrary: true, Paths: []string{writeFiles(t, map[string]string{"p.rego": "package main\n" + tc.policy})}})
			_, err := e.Evaluate(context.Background(), Input{Change: ResourceChange{Address: "idp_app.x", Type: "idp_app",
				Change: Change{Actions: []string{"create"}, After: map[string]any{"size": "big"}}}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: Evaluate error = %v, want one containing %q", tc.reason, err, tc.want)
			}
		})
	}
}

func TestEvaluateStopsAtTheDeadline(t *testing.T) {
	// Nine million iterations: far longer than the deadline.
	e := newEngine(t, Config{NoDefaultLibrary: true, Paths: []string{writeFiles(t, map[string]string{"slow.rego": `package main
deny contains "slow" if {
	some i in numbers.range(1, 3000)
	some j in numbers.range(1, 3000)
	i * j < 0
}`})}})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := e.Evaluate(ctx, Input{Change: access("view")})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Evaluate error = %v, want one wrapping context.DeadlineExceeded", err)
	}
}

func TestBundles(t *testing.T) {
	files := map[string]string{
		"platform/rules.rego":      "package main\nwarn_bundle contains sprintf(\"limit %d\", [data.platform.limit]) if true\n",
		"platform/rules_test.rego": "package main_test\ntest_broken if { undefined_thing }\n",
		"platform/data.json":       `{"limit": 7}`,
	}
	dir := writeFiles(t, files)
	var archive bytes.Buffer
	gz := gzip.NewWriter(&archive)
	tw := tar.NewWriter(gz)
	for name, content := range files {
		if err := tw.WriteHeader(&tar.Header{Name: "/" + name, Mode: 0o600, Size: int64(len(content))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	tarball := filepath.Join(t.TempDir(), "bundle.tar.gz")
	if err := os.WriteFile(tarball, archive.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	want := []Result{{Rule: "warn_bundle", Severity: SeverityWarning, Message: "limit 7"}}
	for _, tc := range []struct{ reason, bundle string }{
		{"a bundle directory", dir},
		{"a .tar.gz bundle", tarball},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			e := newEngine(t, Config{NoDefaultLibrary: true, Bundle: tc.bundle})
			got, err := e.Evaluate(context.Background(), Input{Change: access("view")})
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: results (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

// TestEvaluateConcurrently shares one Engine between goroutines, as the provider's resources do
// (run with -race).
func TestEvaluateConcurrently(t *testing.T) {
	e := newEngine(t, Config{})
	inputs := []Input{
		{Change: access("cluster-admin"), IDP: Context{Team: "payments"}},
		{Change: access("cluster-admin"), IDP: Context{Team: "platform"}},
		{Change: cluster(11, goodTags)},
		{Change: cluster(3, nil)},
	}
	want := make([][]Result, len(inputs))
	for i, in := range inputs {
		var err error
		if want[i], err = e.Evaluate(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 25 {
				i := (g + n) % len(inputs)
				got, err := e.Evaluate(context.Background(), inputs[i])
				if err != nil {
					errs <- err
					return
				}
				if diff := cmp.Diff(want[i], got); diff != "" {
					errs <- fmt.Errorf("input %d gave other results concurrently (-alone +concurrently):\n%s", i, diff)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// BenchmarkEvaluate evaluates the shipped library for a plan of 200 resources, one Evaluate each as
// the provider does, and reports the time per resource.
func BenchmarkEvaluate(b *testing.B) {
	e := newEngine(b, Config{})
	var inputs []Input
	for i := range 200 {
		var change ResourceChange
		switch i % 4 {
		case 0:
			change = access("edit")
		case 1:
			change = cluster(5+i%10, goodTags)
		case 2:
			change = ResourceChange{Address: fmt.Sprintf("idp_app.a%d", i), Type: "idp_app", Change: Change{Actions: []string{"create"},
				After: map[string]any{"cluster": "payments-prod", "chart": map[string]any{"catalog": "web-service"}}}}
		default:
			change = ResourceChange{Address: fmt.Sprintf("idp_addon_stack.s%d", i), Type: "idp_addon_stack", Change: Change{Actions: []string{"update"},
				After: map[string]any{"addons": map[string]any{"ingress": map[string]any{"version": nil}}}}}
		}
		inputs = append(inputs, Input{Change: change, IDP: Context{Team: "payments", Cluster: &ClusterContext{Name: "payments-prod", Environment: "production"}}})
	}
	ctx := context.Background()
	evaluated := 0
	for b.Loop() {
		for _, in := range inputs {
			if _, err := e.Evaluate(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
		evaluated += len(inputs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(evaluated), "ns/resource")
}
