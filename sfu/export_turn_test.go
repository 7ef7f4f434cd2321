package sfu

// TURNAllocations is how many allocations the TURN server holds.
func TURNAllocations(s *SFU) int { return s.turn.srv.AllocationCount() }
