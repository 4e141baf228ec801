package pipeline

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

// newKfake starts an in-process Kafka cluster for one test.
func newKfake(t *testing.T) []string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

func TestPipelineStoresEveryRecordAndCommits(t *testing.T) {
	testStoresEveryRecordAndCommits(t, newKfake(t))
}

func TestPipelineNoCommitWhileStoreFails(t *testing.T) {
	testNoCommitWhileStoreFails(t, newKfake(t))
}

func TestPipelineStoreFailsNTimes(t *testing.T) {
	testStoreFailsNTimes(t, newKfake(t))
}

func TestPipelineRestartDuringOutageLosesNothing(t *testing.T) {
	testRestartDuringOutageLosesNothing(t, newKfake(t))
}

func TestPipelineVerdictAfterDenials(t *testing.T) {
	testVerdictAfterDenials(t, newKfake(t))
}

func TestPipelineDeadLetters(t *testing.T) {
	testDeadLetters(t, newKfake(t))
}
