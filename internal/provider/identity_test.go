package provider

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
)

// importChangesOnly passes when the plan of an import changes nothing of the resource but the given
// attributes: those no backend holds (timeouts, write-only versions, values kept out of state), which
// the configuration sets and an import cannot read back. Attributes that become unknown, even in part, because of
// the update are the update's consequence, not a difference.
func importChangesOnly(address string, allowed ...string) plancheck.PlanCheck {
	return importChanges{address: address, allowed: allowed}
}

type importChanges struct {
	address string
	allowed []string
}

func (c importChanges) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, change := range req.Plan.ResourceChanges {
		if change.Address != c.address {
			continue
		}
		if change.Change.Importing == nil {
			resp.Error = fmt.Errorf("%s is not imported by the plan", c.address)
			return
		}
		before, _ := change.Change.Before.(map[string]any)
		after, _ := change.Change.After.(map[string]any)
		unknown, _ := change.Change.AfterUnknown.(map[string]any)
		for key, was := range before {
			if slices.Contains(c.allowed, key) || hasUnknown(unknown[key]) {
				continue
			}
			if diff := cmp.Diff(was, after[key]); diff != "" {
				resp.Error = fmt.Errorf("importing %s changes %s, which the import should have read back: -imported, +configured:\n%s", c.address, key, diff)
				return
			}
		}
		return
	}
	resp.Error = fmt.Errorf("the plan has no change of %s", c.address)
}

// hasUnknown says whether a plan's after_unknown value marks anything unknown, at any depth.
func hasUnknown(marks any) bool {
	switch marks := marks.(type) {
	case bool:
		return marks
	case map[string]any:
		for _, mark := range marks {
			if hasUnknown(mark) {
				return true
			}
		}
	case []any:
		for _, mark := range marks {
			if hasUnknown(mark) {
				return true
			}
		}
	}
	return false
}
