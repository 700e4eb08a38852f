package kube_test

import (
	"github.com/idp-platform/terraform-provider-idp/internal/access"
	"github.com/idp-platform/terraform-provider-idp/internal/kube"
)

// internal/access imports kube, so the check that kube.Client is an access.Cluster lives outside kube.
var _ access.Cluster = (*kube.Client)(nil)
