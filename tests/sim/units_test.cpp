#include "sim/scenario/units.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"

using namespace ddlsim::scenario;

using ddlsim::scenario::Dimension;
using ddlsim::scenario::format_quantity;
using ddlsim::scenario::parse_quantity;

TEST_CASE("bandwidth units distinguish bits from bytes and SI from binary prefixes")
{
  CHECK(*parse_quantity("400Gbps", Dimension::bytes_per_s) == 50e9);
  CHECK(*parse_quantity("12.5GBps", Dimension::bytes_per_s) == 12.5e9);
  CHECK(*parse_quantity("100Gb/s", Dimension::bytes_per_s) == 12.5e9);
  CHECK(*parse_quantity("1GiBps", Dimension::bytes_per_s) == 1073741824.0);
  CHECK(*parse_quantity("8bps", Dimension::bytes_per_s) == 1.0);
}

TEST_CASE("sizes: SI prefixes are powers of ten, binary prefixes powers of two")
{
  CHECK(*parse_quantity("25MB", Dimension::bytes) == 25e6);
  CHECK(*parse_quantity("4MiB", Dimension::bytes) == 4.0 * 1024 * 1024);
  CHECK(*parse_quantity("1GiB", Dimension::bytes) == 1073741824.0);
  CHECK(*parse_quantity("1.5kB", Dimension::bytes) == 1500.0);
  CHECK(*parse_quantity("8B", Dimension::bytes) == 8.0);
}

TEST_CASE("durations and compute rates parse with their units")
{
  CHECK(*parse_quantity("1.5us", Dimension::seconds) == ddlsim::test::Rel(1.5e-6).epsilon(1e-15));
  CHECK(*parse_quantity("2ms", Dimension::seconds) == ddlsim::test::Rel(2e-3).epsilon(1e-15));
  CHECK(*parse_quantity("1e-3s", Dimension::seconds) == 1e-3);
  CHECK(*parse_quantity("120TFLOPS", Dimension::flops_per_s) == 120e12);
  CHECK(*parse_quantity("15.7TFLOPS", Dimension::flops_per_s) == ddlsim::test::Rel(15.7e12).epsilon(1e-15));
}

TEST_CASE("malformed quantities are rejected rather than guessed")
{
  CHECK_FALSE(parse_quantity("100Gbs", Dimension::bytes_per_s));
  CHECK_FALSE(parse_quantity("100", Dimension::bytes_per_s));
  CHECK_FALSE(parse_quantity("Gbps", Dimension::bytes_per_s));
  CHECK_FALSE(parse_quantity("25MB", Dimension::seconds));
  CHECK_FALSE(parse_quantity("1.5 us", Dimension::seconds));
  CHECK_FALSE(parse_quantity("+3us", Dimension::seconds));
  CHECK_FALSE(parse_quantity("3mus", Dimension::seconds));
}

TEST_CASE("formatted quantities parse back to the same value exactly")
{
  for (double v : {12.5e9, 1.0 / 3, 2e-6, 25.0 * 1024 * 1024, 15.7e12}) {
    CHECK(*parse_quantity(format_quantity(v, Dimension::bytes_per_s), Dimension::bytes_per_s) == v);
    CHECK(*parse_quantity(format_quantity(v, Dimension::seconds), Dimension::seconds) == v);
    CHECK(*parse_quantity(format_quantity(v, Dimension::bytes), Dimension::bytes) == v);
    CHECK(*parse_quantity(format_quantity(v, Dimension::flops_per_s), Dimension::flops_per_s) == v);
  }
}
