/* net/link.c: --link / "link" specifications, profiles and the answer text
 * (docs/control.md "Link shaping"). */
#include "net/link.h"
#include "tm_test.h"

#include <stdio.h>

static const char *parse(const char *spec, tm_link *l)
{
    static char text[TM_DETAIL_MAX];
    tm_reason why;
    tm_reason_clear(&why);
    if (tm_link_parse(spec, l, &why) != TM_OK) {
        snprintf(text, sizeof text, "%s", why.detail);
        return text;
    }
    tm_link_describe(l, text, sizeof text);
    return text;
}

int main(void)
{
    tm_link l;
    TM_EQ_STR(parse("off", &l), "link=off");
    TM_CHECK(!l.on);
    TM_EQ_STR(parse("gprs", &l), "link=gprs down_bps=53600 up_bps=26800 latency_ms=300 loss_pct=1");
    TM_EQ_STR(parse("lte-m", &l), "link=lte-m down_bps=300000 up_bps=375000 latency_ms=75 loss_pct=0.5");
    TM_EQ_STR(parse("nb-iot", &l), "link=nb-iot down_bps=26000 up_bps=16900 latency_ms=800 loss_pct=1");
    TM_EQ_STR(parse("wifi", &l), "link=wifi down_bps=20000000 up_bps=20000000 latency_ms=10 loss_pct=0.1");
    TM_CHECK(l.on);
    TM_EQ_STR(parse("rate=64k,latency=200ms,loss=1%", &l),
              "link=custom down_bps=64000 up_bps=64000 latency_ms=200 loss_pct=1");
    TM_EQ_STR(parse("down=1.5M up=9600bps latency=1.5s loss=0.25", &l),
              "link=custom down_bps=1500000 up_bps=9600 latency_ms=1500 loss_pct=0.25");
    TM_EQ_STR(parse("nb-iot,loss=5%", &l), "link=nb-iot+ down_bps=26000 up_bps=16900 latency_ms=800 loss_pct=5");
    TM_EQ_STR(parse("rate=0", &l), "link=custom down_bps=0 up_bps=0 latency_ms=0 loss_pct=0");
    TM_EQ_STR(parse("rate=64kbit/s,loss=0.0001%", &l),
              "link=custom down_bps=64000 up_bps=64000 latency_ms=0 loss_pct=0.0001");
    /* refusals name the item */
    TM_EQ_STR(parse("edge", &l), "link \"edge\": unknown profile (profiles: gprs, lte-m, nb-iot, wifi, off; "
              "or rate=, down=, up=, latency=, loss=)");
    TM_EQ_STR(parse("rate=1k,gprs", &l), "link \"gprs\": a profile comes first (profiles: gprs, lte-m, nb-iot, "
              "wifi, off; or rate=, down=, up=, latency=, loss=)");
    TM_EQ_STR(parse("loss=101%", &l), "link \"loss=101%\": expected a percentage 0..100 (1%, 0.5%)");
    TM_EQ_STR(parse("latency=5min", &l), "link \"latency=5min\": expected milliseconds 0..600000 (200ms, 1.5s)");
    TM_EQ_STR(parse("rate=4", &l), "link \"rate=4\": expected bit/s: 0 (unlimited) or 8 and more, k/M/G "
              "suffixes (64k, 1.5M)");
    TM_EQ_STR(parse("jitter=5ms", &l), "link \"jitter=5ms\": unknown item (rate=, down=, up=, latency=, loss=)");
    TM_EQ_STR(parse("", &l), "link: empty (profiles: gprs, lte-m, nb-iot, wifi, off; or rate=, down=, up=, "
              "latency=, loss=)");
    TM_EQ_STR(parse("off,rate=1k", &l), "link \"off\": unknown profile (profiles: gprs, lte-m, nb-iot, wifi, off; "
              "or rate=, down=, up=, latency=, loss=)");
    TM_TEST_MAIN_END();
}
