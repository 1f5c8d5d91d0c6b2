"""Information campaigns: subscribers, audiences, paced sends, scheduled ticks."""
