package envoyemu

import (
	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
)

// directionMode is the processing mode of one direction, as Envoy's
// ProcessorState::setProcessingModeInternal derives it: headers are sent
// unless SKIP, trailers only when SEND.
type directionMode struct {
	sendHeaders  bool
	body         filterv3.ProcessingMode_BodySendMode
	sendTrailers bool
}

func requestMode(pm *filterv3.ProcessingMode) directionMode {
	return directionMode{
		sendHeaders:  pm.GetRequestHeaderMode() != filterv3.ProcessingMode_SKIP,
		body:         pm.GetRequestBodyMode(),
		sendTrailers: pm.GetRequestTrailerMode() == filterv3.ProcessingMode_SEND,
	}
}

func responseMode(pm *filterv3.ProcessingMode) directionMode {
	return directionMode{
		sendHeaders:  pm.GetResponseHeaderMode() != filterv3.ProcessingMode_SKIP,
		body:         pm.GetResponseBodyMode(),
		sendTrailers: pm.GetResponseTrailerMode() == filterv3.ProcessingMode_SEND,
	}
}

// shouldRemoveContentLength mirrors ProcessorState::shouldRemoveContentLength:
// in these modes the filter cannot keep content-length right if the body is
// mutated later.
func (m directionMode) shouldRemoveContentLength() bool {
	switch m.body {
	case filterv3.ProcessingMode_STREAMED, filterv3.ProcessingMode_BUFFERED_PARTIAL,
		filterv3.ProcessingMode_FULL_DUPLEX_STREAMED:
		return true
	case filterv3.ProcessingMode_BUFFERED:
		return !m.sendHeaders
	default:
		return false
	}
}

// noExternalProcess reports that nothing of this direction goes to the
// processor.
func (m directionMode) noExternalProcess() bool {
	return !m.sendHeaders && m.body == filterv3.ProcessingMode_NONE && !m.sendTrailers
}

// bodyModeEmulated reports whether the emulation implements body mode m.
func bodyModeEmulated(m filterv3.ProcessingMode_BodySendMode) bool {
	switch m {
	case filterv3.ProcessingMode_NONE, filterv3.ProcessingMode_BUFFERED, filterv3.ProcessingMode_STREAMED,
		filterv3.ProcessingMode_BUFFERED_PARTIAL, filterv3.ProcessingMode_FULL_DUPLEX_STREAMED:
		return true
	default:
		return false
	}
}

// effectiveModeOverride mirrors Envoy's effectiveModeOverride: header and
// trailer modes of the override replace the filter's unless DEFAULT; both body
// modes are always replaced (unset means NONE).
func effectiveModeOverride(override, filter *filterv3.ProcessingMode) *filterv3.ProcessingMode {
	m := defaultedMode(filter)
	if v := override.GetRequestHeaderMode(); v != filterv3.ProcessingMode_DEFAULT {
		m.RequestHeaderMode = v
	}
	if v := override.GetResponseHeaderMode(); v != filterv3.ProcessingMode_DEFAULT {
		m.ResponseHeaderMode = v
	}
	if v := override.GetRequestTrailerMode(); v != filterv3.ProcessingMode_DEFAULT {
		m.RequestTrailerMode = v
	}
	if v := override.GetResponseTrailerMode(); v != filterv3.ProcessingMode_DEFAULT {
		m.ResponseTrailerMode = v
	}
	m.RequestBodyMode = override.GetRequestBodyMode()
	m.ResponseBodyMode = override.GetResponseBodyMode()
	return m
}

// overrideAllowed reports whether mode equals one of allowed, ignoring
// request_header_mode; an empty list allows everything.
func overrideAllowed(mode *filterv3.ProcessingMode, allowed []*filterv3.ProcessingMode) bool {
	if len(allowed) == 0 {
		return true
	}
	for _, a := range allowed {
		if mode.GetRequestBodyMode() == a.GetRequestBodyMode() &&
			mode.GetRequestTrailerMode() == a.GetRequestTrailerMode() &&
			mode.GetResponseHeaderMode() == a.GetResponseHeaderMode() &&
			mode.GetResponseBodyMode() == a.GetResponseBodyMode() &&
			mode.GetResponseTrailerMode() == a.GetResponseTrailerMode() {
			return true
		}
	}
	return false
}

func (m directionMode) duplex() bool { return m.body == filterv3.ProcessingMode_FULL_DUPLEX_STREAMED }

// isDuplex reports whether either body mode of pm is FULL_DUPLEX_STREAMED.
func isDuplex(pm *filterv3.ProcessingMode) bool {
	return pm.GetRequestBodyMode() == filterv3.ProcessingMode_FULL_DUPLEX_STREAMED ||
		pm.GetResponseBodyMode() == filterv3.ProcessingMode_FULL_DUPLEX_STREAMED
}
