package helm

import "sync"

// listCache holds values read once per key, each with one call: concurrent readers of a key wait for
// and share that call, a failed read is not kept, and forget drops the keys a write may have changed.
// The engine keeps its release lists and its object lists in one each, for the life of the provider
// process (Terraform starts one per plan and per apply).
type listCache[K comparable, V any] struct {
	mu    sync.Mutex
	byKey map[K]*cachedValue[V]
}

type cachedValue[V any] struct {
	// mu is held while the value is read, so that concurrent readers share one call.
	mu     sync.Mutex
	loaded bool
	value  V
}

// load returns the value of key, reading it with read the first time.
func (c *listCache[K, V]) load(key K, read func() (V, error)) (V, error) {
	c.mu.Lock()
	if c.byKey == nil {
		c.byKey = map[K]*cachedValue[V]{}
	}
	entry, ok := c.byKey[key]
	if !ok {
		entry = &cachedValue[V]{}
		c.byKey[key] = entry
	}
	c.mu.Unlock()

	entry.mu.Lock()
	defer entry.mu.Unlock()
	if !entry.loaded {
		value, err := read()
		if err != nil {
			var none V
			return none, err
		}
		entry.value, entry.loaded = value, true
	}
	return entry.value, nil
}

// forget drops every key drop selects.
func (c *listCache[K, V]) forget(drop func(K) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for key := range c.byKey {
		if drop(key) {
			delete(c.byKey, key)
		}
	}
}
