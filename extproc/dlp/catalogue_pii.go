package dlp

// piiDetectors are the keyword-windowed detectors for financial, government,
// health, personal and network identifiers.
func piiDetectors() []*Detector {
	return nil
}
