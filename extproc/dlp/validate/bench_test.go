package validate

import "testing"

var sinkBool bool
var sinkBrand CardBrand

func BenchmarkLuhn(b *testing.B) {
	in := []byte("4111 1111 1111 1111")
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		sinkBool = Luhn(in)
	}
}

func BenchmarkIBAN(b *testing.B) {
	in := []byte("GB82 WEST 1234 5698 7654 32")
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		sinkBool = IBAN(in)
	}
}

func BenchmarkPaymentCard(b *testing.B) {
	in := []byte("4111111111111111")
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		sinkBrand = PaymentCard(in)
	}
}

func BenchmarkPaymentCardString(b *testing.B) {
	in := "5555-5555-5555-4444"
	b.ReportAllocs()
	for b.Loop() {
		sinkBrand = PaymentCard(in)
	}
}
