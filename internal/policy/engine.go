// Package policy evaluates the platform's Rego policies (OPA, Rego v1) against one planned resource
// change at a time: the shipped library (package policy at the repository root) plus a deployment's
// own policies and bundle. Rules follow conftest's conventions, so the same files run in conftest
// against `tofu show -json`: rules named deny, violation or warn, or starting with deny_, violation_
// or warn_, in the configured packages (conftest's main by default); results are strings or objects
// with msg (and this package's path); exception lists the deny_/violation_ rules to skip. Anything
// that goes wrong fails closed: New refuses policies it cannot compile or that define no rules, and
// Evaluate returns an error rather than a partial answer.
package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
)

// Enforcement modes.
const (
	// EnforcementMandatory reports deny and violation results as errors.
	EnforcementMandatory = "mandatory"
	// EnforcementAdvisory reports every result as a warning: for trying new policies out.
	EnforcementAdvisory = "advisory"
)

// Severities of results.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
)

// Config says which policies an Engine evaluates.
type Config struct {
	// Paths are files or directories of Rego policies and JSON or YAML data, loaded as `opa eval -d`
	// loads them (a data file's document nests under its directories). Files ending in _test.rego
	// are skipped.
	Paths []string
	// Bundle is an OPA bundle: a .tar.gz archive or a bundle directory. Its signature is not checked.
	Bundle string
	// Namespaces are the packages whose rules count, each with the packages under it; default
	// ["main"], conftest's default namespace.
	Namespaces []string
	// Enforcement is EnforcementMandatory (the default when empty) or EnforcementAdvisory.
	Enforcement string
	// NoDefaultLibrary leaves the shipped library out: for a deployment whose Paths or Bundle hold a
	// complete policy set, or a copy of the library (which would otherwise be defined twice).
	NoDefaultLibrary bool
}

// Result is one finding of a rule about the change.
type Result struct {
	// Rule is the rule's name, e.g. "deny_cluster_admin", qualified by its package when that is not
	// one of the namespaces itself ("team.deny_foo").
	Rule string
	// Severity is SeverityError or SeverityWarning.
	Severity string
	Message  string
	// Path is the attribute the finding is about, e.g. ["node_pools", "default", "max_size"]; nil for
	// the resource as a whole. Policies give it as a list, or as a dotted string when no step holds a
	// dot.
	Path []string
}

// Engine evaluates a fixed set of policies, prepared once. It is safe for concurrent use.
type Engine struct {
	query    rego.PreparedEvalQuery
	rules    []rule
	packages []string // packages of the rules, for exceptions
	advisory bool
	offering Offering
}

// rule is a deny, violation or warn rule the query collects, bound to variable r<index>.
type rule struct {
	pkg      string // package path without data., e.g. "main"
	name     string // e.g. "deny_cluster_admin"
	display  string
	severity string
}

var (
	ruleName      = regexp.MustCompile(`^(deny|violation|warn)(_[a-zA-Z0-9]+)*$`)
	namespaceName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*(\.[a-zA-Z_][a-zA-Z0-9_]*)*$`)
)

// New loads, compiles and prepares the policies of cfg.
func New(ctx context.Context, cfg Config) (*Engine, error) {
	advisory := false
	switch cfg.Enforcement {
	case "", EnforcementMandatory:
	case EnforcementAdvisory:
		advisory = true
	default:
		return nil, fmt.Errorf("unknown policy enforcement %q: use %q or %q", cfg.Enforcement, EnforcementMandatory, EnforcementAdvisory)
	}
	namespaces := cfg.Namespaces
	if len(namespaces) == 0 {
		namespaces = []string{"main"}
	}
	for _, ns := range namespaces {
		if !namespaceName.MatchString(ns) || strings.HasPrefix(ns, "data.") {
			return nil, fmt.Errorf("policy namespace %q is not a package name such as main or platform.policies (without data.)", ns)
		}
	}
	set, err := load(cfg)
	if err != nil {
		return nil, err
	}
	compiler := ast.NewCompiler().
		WithCapabilities(capabilities()).
		WithDefaultRegoVersion(ast.RegoV1)
	if compiler.Compile(set.modules); compiler.Failed() {
		return nil, fmt.Errorf("cannot compile the policies: %w", compiler.Errors)
	}
	rules := findRules(compiler.Modules, namespaces)
	if len(rules) == 0 {
		return nil, fmt.Errorf("the policies define no deny, violation or warn rules in the package(s) %s: name rules as conftest does (deny contains msg if { ... }), or configure their package as a namespace",
			strings.Join(namespaces, ", "))
	}
	e := &Engine{rules: rules, advisory: advisory}
	for _, r := range rules {
		if !slices.Contains(e.packages, r.pkg) {
			e.packages = append(e.packages, r.pkg)
		}
	}
	store := inmem.NewFromObject(set.data)
	if e.offering, err = evaluateOffering(ctx, compiler, store); err != nil {
		return nil, err
	}
	query, err := rego.New(
		rego.Query(e.queryText()),
		rego.Compiler(compiler),
		rego.Store(store),
		rego.StrictBuiltinErrors(true),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot prepare the policies: %w", err)
	}
	e.query = query
	return e, nil
}

// Offering is what the platform offers cloud clusters under these policies' settings.
func (e *Engine) Offering() Offering { return e.offering }

// capabilities are this OPA's built-ins without the non-deterministic ones (http.send, net.*,
// time.now_ns, rand.intn, uuid.rfc4122, opa.runtime, ...): a plan's verdict depends on the plan and
// the policies only, and a policy using them fails to compile.
func capabilities() *ast.Capabilities {
	caps := ast.CapabilitiesForThisVersion()
	caps.Builtins = slices.DeleteFunc(caps.Builtins, func(b *ast.Builtin) bool { return b.Nondeterministic })
	return caps
}

// findRules lists the deny, violation and warn rules of the packages under namespaces, sorted.
func findRules(modules map[string]*ast.Module, namespaces []string) []rule {
	seen := map[string]bool{}
	var rules []rule
	for _, module := range modules {
		pkg := strings.TrimPrefix(module.Package.Path.String(), "data.")
		root := ""
		for _, ns := range namespaces {
			if pkg == ns || strings.HasPrefix(pkg, ns+".") {
				root = ns
				break
			}
		}
		if root == "" {
			continue
		}
		for _, r := range module.Rules {
			name := r.Head.Ref()[0].Value.String()
			if !ruleName.MatchString(name) || seen[pkg+"."+name] {
				continue
			}
			seen[pkg+"."+name] = true
			display := name
			if pkg != root {
				display = strings.TrimPrefix(pkg, root+".") + "." + name
			}
			severity := SeverityError
			if strings.HasPrefix(name, "warn") {
				severity = SeverityWarning
			}
			rules = append(rules, rule{pkg: pkg, name: name, display: display, severity: severity})
		}
	}
	sort.Slice(rules, func(i, j int) bool {
		if rules[i].pkg != rules[j].pkg {
			return rules[i].pkg < rules[j].pkg
		}
		return rules[i].name < rules[j].name
	})
	return rules
}

// queryText collects each rule's value and each package's exceptions, wrapped in an array
// comprehension so that an undefined rule gives [] instead of failing the whole query.
func (e *Engine) queryText() string {
	ref := func(pkg, name string) string {
		return ast.MustParseRef("data." + pkg).Append(ast.StringTerm(name)).String()
	}
	var parts []string
	for i, r := range e.rules {
		parts = append(parts, fmt.Sprintf("r%d := [x | x := %s]", i, ref(r.pkg, r.name)))
	}
	for i, pkg := range e.packages {
		parts = append(parts, fmt.Sprintf("e%d := [x | x := %s]", i, ref(pkg, "exception")))
	}
	return strings.Join(parts, "; ")
}

// Rules names the deny, violation and warn rules the engine evaluates, as Result.Rule names them.
func (e *Engine) Rules() []string {
	names := make([]string, 0, len(e.rules))
	for _, r := range e.rules {
		names = append(names, r.display)
	}
	return names
}

// Evaluate runs the policies against one change. The caller bounds the time with ctx.
func (e *Engine) Evaluate(ctx context.Context, in Input) ([]Result, error) {
	raw, err := in.JSON()
	if err != nil {
		return nil, fmt.Errorf("cannot encode the policy input of %s: %w", in.Change.describe(), err)
	}
	input, err := ast.ValueFromReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("cannot encode the policy input of %s: %w", in.Change.describe(), err)
	}
	rs, err := e.query.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil {
		if ctx.Err() != nil {
			err = errors.Join(ctx.Err(), err)
		}
		return nil, fmt.Errorf("cannot evaluate the policies for %s: %w", in.Change.describe(), err)
	}
	if len(rs) != 1 {
		return nil, fmt.Errorf("cannot evaluate the policies for %s: the query gave %d results, not 1", in.Change.describe(), len(rs))
	}
	bindings := rs[0].Bindings
	exempt := map[string]map[string]bool{}
	for i, pkg := range e.packages {
		names, err := exceptionNames(bindings[fmt.Sprintf("e%d", i)])
		if err != nil {
			return nil, fmt.Errorf("policy package %s: %w", pkg, err)
		}
		exempt[pkg] = names
	}
	var results []Result
	for i, r := range e.rules {
		if !strings.HasPrefix(r.name, "warn") && exempt[r.pkg][exceptionName(r.name)] {
			continue
		}
		found, err := r.results(bindings[fmt.Sprintf("r%d", i)])
		if err != nil {
			return nil, fmt.Errorf("policy rule %s: %w", r.display, err)
		}
		for _, res := range found {
			if e.advisory {
				res.Severity = SeverityWarning
			}
			results = append(results, res)
		}
	}
	return results, nil
}

// exceptionName is the name an exception lists for a deny_ or violation_ rule: its name without
// the prefix, "" for a rule named deny or violation (as in conftest).
func exceptionName(name string) string {
	for _, prefix := range []string{"deny", "violation"} {
		if name == prefix {
			return ""
		}
		if rest, ok := strings.CutPrefix(name, prefix+"_"); ok {
			return rest
		}
	}
	return name
}

// exceptionNames reads a package's exception: a set (or array) of lists of rule names.
func exceptionNames(binding any) (map[string]bool, error) {
	names := map[string]bool{}
	wrapped, _ := binding.([]any)
	for _, value := range wrapped {
		entries, ok := value.([]any)
		if !ok {
			return nil, fmt.Errorf("exception must be a set of lists of rule names, not %s", describeValue(value))
		}
		for _, entry := range entries {
			list, ok := entry.([]any)
			if !ok {
				return nil, fmt.Errorf("exception must be a set of lists of rule names, not a set of %s", describeValue(entry))
			}
			for _, name := range list {
				s, ok := name.(string)
				if !ok {
					return nil, fmt.Errorf("exception lists rule names as strings, not %s", describeValue(name))
				}
				names[s] = true
			}
		}
	}
	return names, nil
}

// results turns a rule's value into results: a set or array of messages or objects with msg (and
// path), a single one of those, or a boolean (true: one finding).
func (r rule) results(binding any) ([]Result, error) {
	wrapped, _ := binding.([]any)
	var results []Result
	for _, value := range wrapped {
		switch v := value.(type) {
		case []any:
			for _, item := range v {
				res, err := r.result(item)
				if err != nil {
					return nil, err
				}
				results = append(results, res)
			}
		case bool:
			if v {
				results = append(results, Result{Rule: r.display, Severity: r.severity, Message: fmt.Sprintf("policy rule %s holds for this change", r.display)})
			}
		default:
			res, err := r.result(v)
			if err != nil {
				return nil, err
			}
			results = append(results, res)
		}
	}
	return results, nil
}

func (r rule) result(value any) (Result, error) {
	res := Result{Rule: r.display, Severity: r.severity}
	switch v := value.(type) {
	case string:
		res.Message = v
		return res, nil
	case map[string]any:
		msg, ok := v["msg"].(string)
		if !ok {
			return res, fmt.Errorf("a result object needs msg, a string: got %s", describeValue(v["msg"]))
		}
		res.Message = msg
		path, err := resultPath(v["path"])
		if err != nil {
			return res, err
		}
		res.Path = path
		return res, nil
	}
	return res, fmt.Errorf("a result must be a message or an object with msg, not %s", describeValue(value))
}

// resultPath reads a result's path: a list of names and indexes, or a dotted string.
func resultPath(value any) ([]string, error) {
	switch v := value.(type) {
	case nil:
		return nil, nil
	case string:
		if v == "" {
			return nil, nil
		}
		return strings.Split(v, "."), nil
	case []any:
		path := make([]string, 0, len(v))
		for _, step := range v {
			switch s := step.(type) {
			case string:
				path = append(path, s)
			case json.Number:
				path = append(path, s.String())
			default:
				return nil, fmt.Errorf("a result's path holds attribute names and indexes, not %s", describeValue(step))
			}
		}
		return path, nil
	}
	return nil, fmt.Errorf("a result's path must be a list or a dotted string, not %s", describeValue(value))
}

func describeValue(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

func (c ResourceChange) describe() string {
	switch {
	case c.Address != "":
		return c.Address
	case c.Name != "":
		return c.Type + "." + c.Name
	}
	return c.Type
}
