package crossplane

import (
	"fmt"
	"regexp"
)

// Clouds are the clouds the platform's compositions create clusters on.
var Clouds = []string{"aws", "azure", "gcp"}

// poolNames are the node pool names each cloud's managed Kubernetes accepts (AKS: at most 12 letters
// and digits).
var poolNames = map[string]*regexp.Regexp{
	"aws":   regexp.MustCompile(`^[a-z][a-z0-9-]{0,39}$`),
	"azure": regexp.MustCompile(`^[a-z][a-z0-9]{0,11}$`),
	"gcp":   regexp.MustCompile(`^[a-z][a-z0-9-]{0,39}$`),
}

// machineTypes are the shapes of each cloud's machine type names, with an example. Which of them a
// platform offers is a guardrail of the policy library (instance_types), not a cloud's rule.
var machineTypes = map[string]struct {
	pattern *regexp.Regexp
	example string
}{
	"aws":   {regexp.MustCompile(`^[a-z][a-z0-9-]*\.(nano|micro|small|medium|large|metal|[0-9]*xlarge)$`), "m6i.large"},
	"azure": {regexp.MustCompile(`^Standard_[A-Za-z0-9_]+$`), "Standard_D4s_v5"},
	"gcp":   {regexp.MustCompile(`^[a-z][a-z0-9]*-[a-z0-9-]+$`), "e2-standard-4"},
}

// CheckPoolName says why cloud's managed Kubernetes would refuse a node pool of this name, if it would.
func CheckPoolName(cloud, name string) error {
	pattern, ok := poolNames[cloud]
	if !ok {
		return fmt.Errorf("no node pools on cloud %q", cloud)
	}
	if !pattern.MatchString(name) {
		return fmt.Errorf("%q does not match %s on %s", name, pattern, cloud)
	}
	return nil
}

// CheckMachineType says why instanceType is not a machine type name of cloud, if it is not.
func CheckMachineType(cloud, instanceType string) error {
	shape, ok := machineTypes[cloud]
	if !ok {
		return fmt.Errorf("no machine types on cloud %q", cloud)
	}
	if !shape.pattern.MatchString(instanceType) {
		return fmt.Errorf("%q is not a %s machine type, such as %s", instanceType, cloud, shape.example)
	}
	return nil
}
