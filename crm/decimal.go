package crm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// DecimalPlaces is the precision of a [Decimal]: four digits after the
// point, enough for the portal's money (2 places), quantities (up to 4) and
// rates.
const DecimalPlaces = 4

const decimalScale = 10000 // 10^DecimalPlaces

// Decimal is an exact decimal number with [DecimalPlaces] (4) digits after
// the point, stored as an int64 count of 1/10000 units. Its range is about
// ±922 trillion. It is used for money (price, opportunity, discountSum),
// quantities and rates, so that sums come out exact: 0.1 + 0.2 is 0.3.
//
// Decoding accepts JSON numbers, numeric strings ("899.10"), "" and null
// (zero); digits beyond the fourth place are rounded half away from zero,
// as PHP's round() does. It encodes as a JSON number ("899.1"). Arithmetic
// that leaves the range panics, like an integer division by zero; values
// decoded from the portal cannot get there by adding rows.
//
// The zero value is 0.
type Decimal struct{ units int64 }

// NewDecimal returns units × 10^-places, e.g. NewDecimal(89910, 2) is 899.10.
// places must be between 0 and 4.
func NewDecimal(units int64, places int) Decimal {
	if places < 0 || places > DecimalPlaces {
		panic(fmt.Sprintf("crm: NewDecimal: places %d out of 0..%d", places, DecimalPlaces))
	}
	return Decimal{mulInt(units, pow10[DecimalPlaces-places])}
}

// DecimalFromInt returns n as a Decimal.
func DecimalFromInt(n int64) Decimal { return Decimal{mulInt(n, decimalScale)} }

// DecimalFromFloat returns f rounded to 4 places (half away from zero),
// using f's shortest decimal representation, so DecimalFromFloat(0.1) is
// exactly 0.1. It fails for NaN, infinities and values out of range.
func DecimalFromFloat(f float64) (Decimal, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Decimal{}, fmt.Errorf("crm: decimal from %v", f)
	}
	return ParseDecimal(strconv.FormatFloat(f, 'g', -1, 64))
}

// ParseDecimal parses a decimal number ("899.10", "-3", "1.5e3", "12,5"
// with a decimal comma); more than 4 places are rounded half away from
// zero. "" is an error here (JSON decoding treats "" as zero).
func ParseDecimal(s string) (Decimal, error) {
	t := strings.TrimSpace(s)
	if strings.Count(t, ",") == 1 && !strings.Contains(t, ".") {
		t = strings.Replace(t, ",", ".", 1)
	}
	if t == "" || len(t) > 64 {
		return Decimal{}, fmt.Errorf("crm: invalid decimal %.40q", s)
	}
	if d, ok := parseFast(t); ok {
		return d, nil
	}
	r, ok := new(big.Rat).SetString(t)
	if !ok || strings.ContainsAny(t, "/xXpP_") {
		return Decimal{}, fmt.Errorf("crm: invalid decimal %.40q", s)
	}
	r.Mul(r, big.NewRat(decimalScale, 1))
	n, ok := roundRat(r)
	if !ok {
		return Decimal{}, fmt.Errorf("crm: decimal %.40q out of range", s)
	}
	return Decimal{n}, nil
}

// MustDecimal is ParseDecimal that panics on error, for constants in code.
func MustDecimal(s string) Decimal {
	d, err := ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

// parseFast handles plain "[-]digits[.digits]" with at most 4 places.
func parseFast(s string) (Decimal, bool) {
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" && frac == "" || len(frac) > DecimalPlaces || len(intPart) > 14 || hasDot && frac == "" && intPart == "" {
		return Decimal{}, false
	}
	var n int64
	for _, r := range intPart {
		if r < '0' || r > '9' {
			return Decimal{}, false
		}
		n = n*10 + int64(r-'0')
	}
	n *= decimalScale
	var f int64
	for i := 0; i < DecimalPlaces; i++ {
		f *= 10
		if i < len(frac) {
			r := frac[i]
			if r < '0' || r > '9' {
				return Decimal{}, false
			}
			f += int64(r - '0')
		}
	}
	n += f
	if neg {
		n = -n
	}
	return Decimal{n}, true
}

// roundRat rounds r to an integer, half away from zero.
func roundRat(r *big.Rat) (int64, bool) {
	num, den := new(big.Int).Set(r.Num()), r.Denom()
	neg := num.Sign() < 0
	num.Abs(num)
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	if m.Lsh(m, 1).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if neg {
		q.Neg(q)
	}
	if !q.IsInt64() {
		return 0, false
	}
	return q.Int64(), true
}

var pow10 = [...]int64{1, 10, 100, 1000, 10000}

func mulInt(a, b int64) int64 {
	r := a * b
	if a != 0 && (r/a != b || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64)) {
		panic("crm: Decimal overflow")
	}
	return r
}

// Add returns d + e.
func (d Decimal) Add(e Decimal) Decimal {
	r := d.units + e.units
	if (r > d.units) != (e.units > 0) {
		panic("crm: Decimal overflow")
	}
	return Decimal{r}
}

// Sub returns d - e.
func (d Decimal) Sub(e Decimal) Decimal {
	r := d.units - e.units
	if (r < d.units) != (e.units > 0) {
		panic("crm: Decimal overflow")
	}
	return Decimal{r}
}

// Neg returns -d.
func (d Decimal) Neg() Decimal { return Decimal{-d.units} }

// Mul returns d × e rounded to 4 places (half away from zero).
func (d Decimal) Mul(e Decimal) Decimal { return d.MulRound(e, DecimalPlaces) }

// MulRound returns d × e rounded once, half away from zero, to places
// digits (0-4) after the point. Use it for line totals: price.MulRound(qty, 2)
// rounds the exact product, never an already rounded one.
func (d Decimal) MulRound(e Decimal, places int) Decimal {
	checkPlaces(places)
	step := pow10[DecimalPlaces-places]
	const small = 3037000499 // |a|,|b| <= small: a*b fits in an int64
	if d.units >= -small && d.units <= small && e.units >= -small && e.units <= small {
		p := d.units * e.units
		div := decimalScale * step
		q, r := p/div, p%div
		if r < 0 {
			r = -r
		}
		if 2*r >= div {
			if p < 0 {
				q--
			} else {
				q++
			}
		}
		return Decimal{mulInt(q, step)}
	}
	p := new(big.Int).Mul(big.NewInt(d.units), big.NewInt(e.units))
	// p has 8 places; keep `places`.
	r := new(big.Rat).SetFrac(p, big.NewInt(decimalScale*step))
	n, ok := roundRat(r)
	if !ok {
		panic("crm: Decimal overflow")
	}
	return Decimal{mulInt(n, step)}
}

// Round returns d rounded to places digits (0-4) after the point, half away
// from zero: 2.345 → 2.35, -2.345 → -2.35.
func (d Decimal) Round(places int) Decimal {
	checkPlaces(places)
	step := pow10[DecimalPlaces-places]
	q, m := d.units/step, d.units%step
	if m < 0 {
		m = -m
	}
	if 2*m >= step {
		if d.units < 0 {
			q--
		} else {
			q++
		}
	}
	return Decimal{mulInt(q, step)}
}

func checkPlaces(places int) {
	if places < 0 || places > DecimalPlaces {
		panic(fmt.Sprintf("crm: places %d out of 0..%d", places, DecimalPlaces))
	}
}

// Cmp returns -1, 0 or +1 as d is less than, equal to or greater than e.
func (d Decimal) Cmp(e Decimal) int {
	switch {
	case d.units < e.units:
		return -1
	case d.units > e.units:
		return 1
	}
	return 0
}

// Sign returns -1, 0 or +1.
func (d Decimal) Sign() int { return d.Cmp(Decimal{}) }

// IsZero reports whether d is 0.
func (d Decimal) IsZero() bool { return d.units == 0 }

// Units returns d in 1/10000 units (d × 10^4).
func (d Decimal) Units() int64 { return d.units }

// Float64 returns the nearest float64.
func (d Decimal) Float64() float64 {
	f, _ := strconv.ParseFloat(d.String(), 64)
	return f
}

// String returns the shortest exact form: "899.1", "100", "-0.05".
func (d Decimal) String() string {
	s := d.StringFixed(DecimalPlaces)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	return s
}

// StringFixed returns d rounded to places digits (0-4) and printed with
// exactly that many: StringFixed(2) of 899.1 is "899.10".
func (d Decimal) StringFixed(places int) string {
	r := d.Round(places)
	u := r.units
	neg := u < 0
	var abs uint64
	if neg {
		abs = uint64(-u)
	} else {
		abs = uint64(u)
	}
	ip, fp := abs/decimalScale, abs%decimalScale
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	b.WriteString(strconv.FormatUint(ip, 10))
	if places > 0 {
		fs := fmt.Sprintf("%04d", fp)
		b.WriteByte('.')
		b.WriteString(fs[:places])
	}
	return b.String()
}

// Format implements fmt.Formatter: %v and %s print String, %q quotes it.
func (d Decimal) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		fmt.Fprintf(f, "%q", d.String())
	default:
		fmt.Fprint(f, d.String())
	}
}

// MarshalJSON writes d as a JSON number.
func (d Decimal) MarshalJSON() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalJSON reads a JSON number, a numeric string, "" or null.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" || string(b) == `""` || string(b) == "false" {
		*d = Decimal{}
		return nil
	}
	s := string(b)
	if b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("crm.Decimal: %w", err)
		}
		if strings.TrimSpace(s) == "" {
			*d = Decimal{}
			return nil
		}
	} else if b[0] == '[' || b[0] == '{' {
		return fmt.Errorf("crm.Decimal: want a number, got %.20s", b)
	}
	v, err := ParseDecimal(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalText writes String (for map keys and text encoders).
func (d Decimal) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses like ParseDecimal ("" is zero).
func (d *Decimal) UnmarshalText(b []byte) error {
	if len(bytes.TrimSpace(b)) == 0 {
		*d = Decimal{}
		return nil
	}
	v, err := ParseDecimal(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
