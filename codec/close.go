package codec

import "wsfan/ws"

// Close codes the server sends (PROTOCOL.md, "Close codes"), each with the
// reasons it goes with.
const (
	CloseGoingAway       = ws.CloseGoingAway       // with CloseReasonShutdown or CloseReasonIdle
	ClosePolicyViolation = ws.ClosePolicyViolation // with CloseReasonSlowConsumer, CloseReasonTokenExpired or CloseReasonRateLimited
	CloseMessageTooBig   = ws.CloseMessageTooBig   // with CloseReasonMessageTooBig
)

// Close reasons the server sends, byte for byte as PROTOCOL.md lists them
// (CloseReasonIdle is wsfan's own: PROTOCOL.md says when, not the text).
const (
	CloseReasonShutdown      = "shutdown"
	CloseReasonSlowConsumer  = "slow consumer"
	CloseReasonTokenExpired  = "token expired"
	CloseReasonMessageTooBig = "message too big"
	CloseReasonRateLimited   = "rate limited"
	CloseReasonIdle          = "idle timeout"
)
