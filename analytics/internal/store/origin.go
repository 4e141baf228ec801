package store

// Origin is where a stored message was read from, or written to, in Kafka.
type Origin struct {
	Topic     string
	Partition int32
	Offset    int64
}

// originAt returns origins[i], or the zero Origin when origins is nil.
func originAt(origins []Origin, i int) Origin {
	if origins == nil {
		return Origin{}
	}
	return origins[i]
}
