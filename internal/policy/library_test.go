package policy

import (
	"context"
	"encoding/json"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
)

// TestLibrary runs the shipped library's Rego unit tests (as `opa test policy/` would) under the
// capabilities the engine evaluates with.
func TestLibrary(t *testing.T) {
	modules, err := shippedModules(true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	compiler := ast.NewCompiler().WithCapabilities(capabilities()).WithDefaultRegoVersion(ast.RegoV1).WithEnablePrintStatements(true)
	results, err := tester.NewRunner().
		SetCompiler(compiler).
		SetModules(modules).
		RaiseBuiltinErrors(true).
		CapturePrintOutput(true).
		SetTimeout(30*time.Second).
		RunTests(ctx, nil)
	if err != nil {
		t.Fatalf("cannot run the library's tests: %v", err)
	}
	ran := 0
	for result := range results {
		ran++
		switch {
		case result.Error != nil:
			t.Errorf("%s.%s: error: %v\n%s", result.Package, result.Name, result.Error, result.Output)
		case result.Fail:
			t.Errorf("%s.%s (%s): failed at %v\n%s", result.Package, result.Name, result.Location, result.FailedAt, result.Output)
		case result.Skip:
			t.Errorf("%s.%s: skipped; the library's tests all run", result.Package, result.Name)
		}
	}
	if ran == 0 {
		t.Fatal("the library has no Rego tests")
	}
	t.Logf("%d Rego tests", ran)
}

// TestLibraryOnAPlan evaluates the library as conftest does: the whole `tofu show -json` document as
// input, the caller's context from a data file (conftest --data), the rules of package main.
func TestLibraryOnAPlan(t *testing.T) {
	modules, err := shippedModules(false)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/plan.json")
	if err != nil {
		t.Fatal(err)
	}
	var plan map[string]any
	if err := json.Unmarshal(raw, &plan); err != nil {
		t.Fatal(err)
	}
	compiler := ast.NewCompiler().WithCapabilities(capabilities()).WithDefaultRegoVersion(ast.RegoV1)
	if compiler.Compile(modules); compiler.Failed() {
		t.Fatal(compiler.Errors)
	}
	data := map[string]any{"idp": map[string]any{"team": "payments", "cluster": map[string]any{"environment": "production"}}}
	rs, err := rego.New(rego.Query("data.main"), rego.Compiler(compiler), rego.Store(inmem.NewFromObject(data)), rego.Input(plan)).Eval(context.Background())
	if err != nil || len(rs) != 1 {
		t.Fatalf("cannot evaluate data.main: %v (%d results)", err, len(rs))
	}
	var got []string
	for name, value := range rs[0].Expressions[0].Value.(map[string]any) {
		if !ruleName.MatchString(name) {
			continue
		}
		for _, finding := range value.([]any) {
			got = append(got, name+" "+finding.(map[string]any)["msg"].(string))
		}
	}
	sort.Strings(got)
	want := []string{
		`deny_cluster_admin idp_access.oncall: cluster-admin on cluster (known at apply) is reserved for the platform team and this plan runs for team "payments": grant admin on the team's namespaces instead (role = "admin", namespaces = [...]), or have the platform team make this grant`,
		`deny_instance_type idp_cluster.payments: node pool "batch" uses p4d.24xlarge, which the platform does not offer on aws: use one of ` +
			`m6i.large, m6i.xlarge, m6i.2xlarge, m6i.4xlarge, m7i.large, m7i.xlarge, m7i.2xlarge, m7i.4xlarge, c6i.large, c6i.xlarge, c6i.2xlarge, c6i.4xlarge, r6i.large, r6i.xlarge, r6i.2xlarge, or ask the platform team to add it`,
		`deny_production_chart module.api.idp_app.this: chart api of https://charts.example.com/stable is not approved for environment "production": use a catalog chart (chart = { catalog = "web-service" }), or ask the platform team to add the chart to the catalog`,
		`warn_required_tags idp_cluster.payments: the cluster lacks the tag(s) cost-center, which attribute its cloud costs and ownership: add them, e.g. tags = { "cost-center" = "..." }`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings on testdata/plan.json (-want +got):\n%s", diff)
	}
}
