package access

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// RecordStore is what the controller needs of the management cluster's AccessGrants; *Records
// implements it.
type RecordStore interface {
	List(ctx context.Context) ([]Record, error)
	Get(ctx context.Context, name string) (Record, bool, error)
	SetStatus(ctx context.Context, record Record) error
}

// Revoker takes a grant away; Engine implements it.
type Revoker interface {
	Revoke(ctx context.Context, cluster Cluster, grant Grant, deleteGroup bool) error
}

// MessageRevoked is the status message of a grant the controller revoked.
const MessageRevoked = "revoked at expiry: bindings deleted, members removed and logged out"

// Default bounds of the controller's calls, when its fields leave them zero.
const (
	DefaultCallTimeout   = 30 * time.Second
	DefaultRevokeTimeout = 2 * time.Minute
)

// Controller revokes time-bound grants when they expire, without Terraform: each round it lists the
// AccessGrant records, revokes those whose expiry has passed and records the outcome in their status.
// A revoke that fails is tried again the next round.
type Controller struct {
	Records RecordStore
	Engine  Revoker
	// ClusterFor connects to the workload cluster whose admin kubeconfig a record's secret holds.
	ClusterFor func(ctx context.Context, secret SecretRef) (Cluster, error)
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Log receives what the controller does; nothing is logged when nil.
	Log *slog.Logger
	// CallTimeout bounds each read or write of the management cluster and each connection to a workload
	// cluster; DefaultCallTimeout when zero.
	CallTimeout time.Duration
	// RevokeTimeout bounds the revoke of one grant, which makes several calls to Keycloak and the
	// workload cluster; DefaultRevokeTimeout when zero.
	RevokeTimeout time.Duration
}

// Run revokes expired grants until ctx is done, waking every resync and at the next expiry, whichever
// comes first. It returns nil when ctx is done: stopping is not a failure.
func (c *Controller) Run(ctx context.Context, resync time.Duration) error {
	if resync <= 0 {
		return fmt.Errorf("the resync interval must be positive, not %s", resync)
	}
	for {
		records, err := c.reconcile(ctx)
		if err != nil {
			c.log().Error("cannot list the grants; trying again", "in", resync, "error", err)
		}
		wait := nextWake(records, c.now(), resync)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
	}
}

// reconcile runs one round and returns the records as they stand after it.
func (c *Controller) reconcile(ctx context.Context) ([]Record, error) {
	listCtx, cancel := context.WithTimeout(ctx, c.callTimeout())
	records, err := c.Records.List(listCtx)
	cancel()
	if err != nil {
		return nil, err
	}
	now := c.now()
	for i, record := range records {
		if ctx.Err() != nil {
			break
		}
		if !due(record, now) {
			continue
		}
		// A round of revokes can take long: the record is read again, so a grant applied again in the
		// meantime (a later expiry, or none) is not revoked from the stale list.
		getCtx, cancel := context.WithTimeout(ctx, c.callTimeout())
		fresh, found, err := c.Records.Get(getCtx, record.Name)
		cancel()
		if err != nil {
			c.log().Error("cannot read the grant again before revoking it; trying next round", "record", record.Name, "error", err)
			continue
		}
		// A record whose name is not its grant's was not written by idp_access: it is not acted on.
		if !found || !due(fresh, c.now()) || fresh.Name != fresh.Grant.Name() {
			continue
		}
		records[i] = c.expire(ctx, fresh)
	}
	return records, nil
}

// expire revokes one expired grant and records the outcome.
func (c *Controller) expire(ctx context.Context, record Record) Record {
	log := c.log().With("grant", record.Grant.ID(), "record", record.Name, "expiresAt", record.Grant.ExpiresAt)
	status := RecordStatus{Phase: PhaseActive}
	if err := c.revoke(ctx, record); err != nil {
		log.Error("cannot revoke the expired grant; trying again next round", "error", err)
		status.Message = "cannot revoke at expiry yet (trying again): " + err.Error()
	} else {
		revokedAt := c.now().UTC()
		status = RecordStatus{Phase: PhaseExpired, RevokedAt: &revokedAt, Message: MessageRevoked}
		log.Info("revoked the expired grant")
	}
	// A failure that repeats is written once, not every round.
	if statusEqual(status, record.Status) {
		return record
	}
	record.Status = status
	statusCtx, cancel := context.WithTimeout(ctx, c.callTimeout())
	defer cancel()
	if err := c.Records.SetStatus(statusCtx, record); err != nil {
		// The grant is revoked again next round, which a revoke allows.
		log.Error("cannot record the outcome of the revoke", "phase", status.Phase, "error", err)
	}
	return record
}

func (c *Controller) revoke(ctx context.Context, record Record) error {
	connectCtx, cancel := context.WithTimeout(ctx, c.callTimeout())
	cluster, err := c.ClusterFor(connectCtx, record.KubeconfigSecret)
	cancel()
	if err != nil {
		return fmt.Errorf("cannot connect to cluster %q: %w", record.Grant.Cluster, err)
	}
	revokeCtx, cancel := context.WithTimeout(ctx, c.revokeTimeout())
	defer cancel()
	return c.Engine.Revoke(revokeCtx, cluster, record.Grant, false)
}

// due reports whether a record's grant has expired and has not been revoked since. A grant revoked
// before its current expiry (idp_access applied it again with a later one) is due again once that passes.
func due(record Record, now time.Time) bool {
	expiresAt := record.Grant.ExpiresAt
	if expiresAt == nil || expiresAt.After(now) {
		return false
	}
	revokedAt := record.Status.RevokedAt
	return record.Status.Phase != PhaseExpired || revokedAt == nil || revokedAt.Before(*expiresAt)
}

// nextWake is how long to sleep after a round: until the earliest expiry still to come, at most resync
// (which is also when a failed revoke, or a failed list, is tried again).
func nextWake(records []Record, now time.Time, resync time.Duration) time.Duration {
	wait := resync
	for _, record := range records {
		if expiresAt := record.Grant.ExpiresAt; expiresAt != nil && expiresAt.After(now) {
			wait = min(wait, expiresAt.Sub(now))
		}
	}
	return wait
}

func statusEqual(a, b RecordStatus) bool {
	if a.Phase != b.Phase || a.Message != b.Message || (a.RevokedAt == nil) != (b.RevokedAt == nil) {
		return false
	}
	return a.RevokedAt == nil || a.RevokedAt.Equal(*b.RevokedAt)
}

func (c *Controller) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

func (c *Controller) log() *slog.Logger {
	if c.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Log
}

func (c *Controller) callTimeout() time.Duration {
	if c.CallTimeout <= 0 {
		return DefaultCallTimeout
	}
	return c.CallTimeout
}

func (c *Controller) revokeTimeout() time.Duration {
	if c.RevokeTimeout <= 0 {
		return DefaultRevokeTimeout
	}
	return c.RevokeTimeout
}
