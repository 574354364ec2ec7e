"""Time domains of timers (Beam's ``apache_beam.transforms.timeutil``)."""

__all__ = ["TimeDomain"]


class TimeDomain:
    """Time domain for streaming timers."""

    WATERMARK = "WATERMARK"
    REAL_TIME = "REAL_TIME"
    DEPENDENT_REAL_TIME = "DEPENDENT_REAL_TIME"

    @staticmethod
    def from_string(domain):
        if domain in (TimeDomain.WATERMARK, TimeDomain.REAL_TIME, TimeDomain.DEPENDENT_REAL_TIME):
            return domain
        raise ValueError("Unknown time domain: %s" % domain)

    @staticmethod
    def is_event_time(domain):
        return TimeDomain.from_string(domain) == TimeDomain.WATERMARK

    @staticmethod
    def _native(domain):
        """The Rust engine's domain: event time, or processing time for both real-time domains."""
        return "event_time" if TimeDomain.is_event_time(domain) else "processing_time"
