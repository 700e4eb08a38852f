package helm

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// BenchmarkRefresh reads 200 releases spread over 4 clusters (5 namespaces of 10 releases each) the way
// a refresh does (the release, then its drift), with a fresh engine per cluster each time as a new
// provider process has, and reports the API calls per refresh, and the drift reads among them: releases
// read through the per-namespace release list (what Read uses) and, for comparison, with one Get per
// release. Drift reads objects with one list per namespace and kind either way.
func BenchmarkRefresh(b *testing.B) {
	const clusters, perNamespace = 4, 10
	namespaces := []string{"ns-0", "ns-1", "ns-2", "ns-3", "ns-4"}
	kubeconfigs := startClusters(b, clusters)
	var wg sync.WaitGroup
	for _, kubeconfig := range kubeconfigs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			installReleases(b, kubeconfig, namespaces, perNamespace)
		}()
	}
	wg.Wait()

	refresh := func(b *testing.B, calls *apiCalls, read func(*Engine, string, string) (Release, error)) {
		for _, kubeconfig := range kubeconfigs {
			engine, err := NewEngine(kubeconfig, WithTransport(calls.wrap))
			if err != nil {
				b.Fatal(err)
			}
			for _, namespace := range namespaces {
				for i := range perNamespace {
					rel, err := read(engine, namespace, fmt.Sprintf("app-%d", i))
					if err != nil {
						b.Fatal(err)
					}
					if _, err := engine.Drift(context.Background(), rel); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
	}
	find := func(e *Engine, namespace, name string) (Release, error) {
		return e.Find(context.Background(), namespace, name)
	}
	get := func(e *Engine, namespace, name string) (Release, error) {
		return e.Get(context.Background(), namespace, name)
	}

	var baseline apiCalls
	refresh(b, &baseline, get)
	for _, mode := range []struct {
		name string
		read func(*Engine, string, string) (Release, error)
	}{{"list-per-namespace", find}, {"get-per-release", get}} {
		b.Run(mode.name, func(b *testing.B) {
			var calls apiCalls
			for b.Loop() {
				refresh(b, &calls, mode.read)
			}
			perRefresh := float64(calls.total.Load()) / float64(b.N)
			b.ReportMetric(perRefresh, "api-calls/refresh")
			lists, gets := calls.objectReads()
			driftCalls := 0
			for _, n := range lists {
				driftCalls += n
			}
			for _, n := range gets {
				driftCalls += n
			}
			b.ReportMetric(float64(driftCalls)/float64(b.N), "drift-calls/refresh")
			b.ReportMetric(float64(baseline.total.Load())/perRefresh, "x-fewer-calls-than-get-per-release")
		})
	}
}
