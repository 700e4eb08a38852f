package access

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeRecords is the management cluster's AccessGrants: SetStatus changes what the next List returns.
type fakeRecords struct {
	records  []Record
	listErr  error
	statuses []RecordStatus
}

func (f *fakeRecords) List(ctx context.Context) ([]Record, error) {
	if _, bounded := ctx.Deadline(); !bounded {
		return nil, errors.New("list without a deadline")
	}
	if f.listErr != nil {
		return nil, f.listErr
	}
	return append([]Record(nil), f.records...), nil
}

func (f *fakeRecords) Get(ctx context.Context, name string) (Record, bool, error) {
	if _, bounded := ctx.Deadline(); !bounded {
		return Record{}, false, errors.New("get without a deadline")
	}
	for _, r := range f.records {
		if r.Name == name {
			return r, true, nil
		}
	}
	return Record{}, false, nil
}

func (f *fakeRecords) SetStatus(ctx context.Context, record Record) error {
	if _, bounded := ctx.Deadline(); !bounded {
		return errors.New("status write without a deadline")
	}
	f.statuses = append(f.statuses, record.Status)
	for i := range f.records {
		if f.records[i].Name == record.Name {
			f.records[i].Status = record.Status
		}
	}
	return nil
}

// fakeRevoker answers each Revoke with the next of errs (nil once they run out).
type fakeRevoker struct {
	errs    []error
	revoked []string
}

func (f *fakeRevoker) Revoke(ctx context.Context, cluster Cluster, grant Grant, deleteGroup bool) error {
	if _, bounded := ctx.Deadline(); !bounded {
		return errors.New("revoke without a deadline")
	}
	if deleteGroup {
		return errors.New("an expiry deleted the group")
	}
	if cluster.(secretCluster).secret != "kc-"+grant.Cluster {
		return errors.New("revoked on the wrong cluster")
	}
	f.revoked = append(f.revoked, grant.ID())
	if len(f.errs) == 0 {
		return nil
	}
	err := f.errs[0]
	f.errs = f.errs[1:]
	return err
}

// secretCluster stands for the workload cluster a secret leads to; the fake revoker calls none of it.
type secretCluster struct {
	Cluster
	secret string
}

func TestControllerRounds(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	record := func(cluster string, expiresAt *time.Time, status RecordStatus) Record {
		grant := Grant{Cluster: cluster, Group: "oncall", Role: "edit", ExpiresAt: expiresAt}
		return Record{Name: grant.Name(), Grant: grant, KubeconfigSecret: SecretRef{Namespace: "ns", Name: "kc-" + cluster, Key: "kubeconfig"}, Status: status}
	}
	revoked := RecordStatus{Phase: PhaseExpired, RevokedAt: &now, Message: MessageRevoked}
	keycloakDown := errors.New("keycloak did not answer")

	cases := []struct {
		reason     string
		records    []Record
		revokeErrs []error
		clusterErr error
		rounds     int
		// wantRevoked are the grants revoked, once per attempt; wantStatuses the status writes in order.
		wantRevoked  []string
		wantStatuses []RecordStatus
	}{
		{
			reason:  "A grant that has not expired is left alone, as is one without an expiry.",
			records: []Record{record("a", at(time.Minute), RecordStatus{}), record("b", nil, RecordStatus{})},
			rounds:  2,
		},
		{
			reason:       "An expired grant is revoked once and marked Expired.",
			records:      []Record{record("a", at(-time.Second), RecordStatus{}), record("b", at(time.Hour), RecordStatus{Phase: PhaseActive})},
			rounds:       3,
			wantRevoked:  []string{"a/oncall/cluster"},
			wantStatuses: []RecordStatus{revoked},
		},
		{
			reason:       "A grant expiring this very moment is due.",
			records:      []Record{record("a", at(0), RecordStatus{Phase: PhaseActive})},
			rounds:       1,
			wantRevoked:  []string{"a/oncall/cluster"},
			wantStatuses: []RecordStatus{revoked},
		},
		{
			reason:  "A grant revoked at its expiry is not revoked again.",
			records: []Record{record("a", at(-time.Minute), RecordStatus{Phase: PhaseExpired, RevokedAt: at(-time.Second), Message: MessageRevoked})},
			rounds:  2,
		},
		{
			reason:       "A grant revoked before its current expiry (applied again with a later one) is revoked again.",
			records:      []Record{record("a", at(-time.Second), RecordStatus{Phase: PhaseExpired, RevokedAt: at(-time.Hour), Message: MessageRevoked})},
			rounds:       2,
			wantRevoked:  []string{"a/oncall/cluster"},
			wantStatuses: []RecordStatus{revoked},
		},
		{
			reason:      "A failed revoke is recorded, stays Active and is tried again the next round.",
			records:     []Record{record("a", at(-time.Second), RecordStatus{Phase: PhaseActive})},
			revokeErrs:  []error{keycloakDown},
			rounds:      3,
			wantRevoked: []string{"a/oncall/cluster", "a/oncall/cluster"},
			wantStatuses: []RecordStatus{
				{Phase: PhaseActive, Message: "cannot revoke at expiry yet (trying again): keycloak did not answer"},
				revoked,
			},
		},
		{
			reason:      "A failure that repeats is written once.",
			records:     []Record{record("a", at(-time.Second), RecordStatus{})},
			revokeErrs:  []error{keycloakDown, keycloakDown, keycloakDown},
			rounds:      3,
			wantRevoked: []string{"a/oncall/cluster", "a/oncall/cluster", "a/oncall/cluster"},
			wantStatuses: []RecordStatus{
				{Phase: PhaseActive, Message: "cannot revoke at expiry yet (trying again): keycloak did not answer"},
			},
		},
		{
			reason:     "A workload cluster that cannot be reached is a failure like any other.",
			records:    []Record{record("a", at(-time.Second), RecordStatus{})},
			clusterErr: errors.New("no such secret"),
			rounds:     2,
			wantStatuses: []RecordStatus{
				{Phase: PhaseActive, Message: `cannot revoke at expiry yet (trying again): cannot connect to cluster "a": no such secret`},
			},
		},
		{
			reason:       "One grant's failure does not hold back another's revoke.",
			records:      []Record{record("a", at(-time.Second), RecordStatus{}), record("b", at(-time.Second), RecordStatus{})},
			revokeErrs:   []error{keycloakDown},
			rounds:       1,
			wantRevoked:  []string{"a/oncall/cluster", "b/oncall/cluster"},
			wantStatuses: []RecordStatus{{Phase: PhaseActive, Message: "cannot revoke at expiry yet (trying again): keycloak did not answer"}, revoked},
		},
	}
	for _, tc := range cases {
		t.Run(tc.reason, func(t *testing.T) {
			store := &fakeRecords{records: tc.records}
			revoker := &fakeRevoker{errs: tc.revokeErrs}
			c := &Controller{
				Records: store,
				Engine:  revoker,
				ClusterFor: func(ctx context.Context, secret SecretRef) (Cluster, error) {
					if _, bounded := ctx.Deadline(); !bounded {
						return nil, errors.New("connect without a deadline")
					}
					return secretCluster{secret: secret.Name}, tc.clusterErr
				},
				Now: func() time.Time { return now },
			}
			for range tc.rounds {
				if _, err := c.reconcile(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(tc.wantRevoked, revoker.revoked); diff != "" {
				t.Errorf("revoked (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantStatuses, store.statuses); diff != "" {
				t.Errorf("status writes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestControllerNextWake(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	expiring := func(at *time.Time) Record {
		return Record{Grant: Grant{Cluster: "c", Group: "g", Role: "r", ExpiresAt: at}}
	}
	cases := []struct {
		reason  string
		records []Record
		want    time.Duration
	}{
		{reason: "With nothing to expire, the controller wakes at the resync.", want: 30 * time.Second},
		{reason: "An expiry sooner than the resync wakes it then.", records: []Record{expiring(at(time.Hour)), expiring(at(5 * time.Second)), expiring(at(9 * time.Second))}, want: 5 * time.Second},
		{reason: "An expiry later than the resync waits for the resync.", records: []Record{expiring(at(time.Minute))}, want: 30 * time.Second},
		{reason: "Past expiries (revoked, or failed and retried at the resync) and grants without one do not count.", records: []Record{expiring(at(-time.Second)), expiring(nil)}, want: 30 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.reason, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, nextWake(tc.records, now, 30*time.Second)); diff != "" {
				t.Errorf("wait (-want +got):\n%s", diff)
			}
		})
	}
}

func TestControllerRunStops(t *testing.T) {
	cases := []struct {
		reason  string
		resync  time.Duration
		listErr error
		wantErr bool
	}{
		{reason: "A cancelled context stops the loop without an error.", resync: time.Hour},
		{reason: "A failing list does not stop the loop; the context does.", resync: time.Hour, listErr: errors.New("management cluster down")},
		{reason: "A resync that is not positive would spin, and is refused.", resync: 0, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.reason, func(t *testing.T) {
			store := &fakeRecords{listErr: tc.listErr}
			c := &Controller{Records: store, Engine: &fakeRevoker{}}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			done := make(chan error, 1)
			go func() { done <- c.Run(ctx, tc.resync) }()
			select {
			case err := <-done:
				if (err != nil) != tc.wantErr {
					t.Errorf("Run: %v, want an error: %t", err, tc.wantErr)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return after its context was cancelled")
			}
		})
	}
}
