package kube

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
)

// negotiatedSerializer lets the unversioned REST client decode the raw discovery documents it reads.
var negotiatedSerializer = serializer.NewCodecFactory(runtime.NewScheme()).WithoutConversion()
