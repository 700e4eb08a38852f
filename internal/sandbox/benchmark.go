package sandbox

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
)

// StartWorkloadClusters starts workload clusters and nothing else: one etcd and, per name, a cluster
// whose fake nodes run Pods like the sandbox's own workload cluster (but without Keycloak's OIDC), for
// benchmarks that spread releases over more clusters than the sandbox has. The clusters start side by
// side; Stop stops them all.
func StartWorkloadClusters(ctx context.Context, opts Options, names ...string) (_ *Sandbox, _ []*WorkloadCluster, err error) {
	s, bins, etcdURL, err := startEtcdSandbox(ctx, opts, "etcd", "kubernetes", "kwok")
	if err != nil {
		return nil, nil, err
	}
	defer s.stopOnError(&err)
	clusters := make([]*WorkloadCluster, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() { clusters[i], errs[i] = s.startWorkloadCluster(ctx, bins, etcdURL, name) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	return s, clusters, nil
}

// ForBenchmark points a benchmark at a whole sandbox: the one TestMain started (TF_ACC) or
// IDP_SANDBOX_ENV_FILE names, else one it starts now and stops when the benchmark ends. `make bench`
// runs without TF_ACC, so that only the benchmarks that need the platform pay for starting it. It
// reports whether the sandbox outlives the benchmark, which must then clean up what it made.
func ForBenchmark(b *testing.B) (shared bool) {
	b.Helper()
	shared = os.Getenv(EnvReuse) != ""
	if os.Getenv(EnvTofu) != "" {
		return shared
	}
	env, stop, err := sandboxForTests(Options{})
	if err != nil {
		b.Fatalf("the sandbox did not start: %v", err)
	}
	b.Cleanup(stop)
	for key, value := range env {
		b.Setenv(key, value)
	}
	return shared
}
