#include "reward/math_expr.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <map>

namespace seer::reward {
namespace {

// ---------------------------------------------------------------- tokens

struct Token {
  enum Kind {
    kNumber, kIdent, kConst, kFrac, kSqrt, kFunc, kOp, kLParen, kRParen, kLBrace, kRBrace, kLBracket, kRBracket,
    kSetOpen, kSetClose, kComma, kEquals, kPipe, kEnd
  };
  explicit Token(Kind k) : kind(k) {}
  Kind kind;
  double value = 0;  // kNumber, kConst
  char op = 0;       // kOp: + - * / ^ !
  int func = 0;      // kFunc
  std::string name;  // kIdent
};

enum Func { kSin, kCos, kTan, kLn, kLog, kExp, kArcsin, kArccos, kArctan, kAbs, kSinh, kCosh, kTanh, kSec, kCsc, kCot };

const std::map<std::string, int, std::less<>>& functions() {
  static const std::map<std::string, int, std::less<>> f = {
      {"sin", kSin}, {"cos", kCos}, {"tan", kTan}, {"ln", kLn}, {"log", kLog}, {"exp", kExp},
      {"arcsin", kArcsin}, {"arccos", kArccos}, {"arctan", kArctan}, {"sinh", kSinh}, {"cosh", kCosh},
      {"tanh", kTanh}, {"sec", kSec}, {"csc", kCsc}, {"cot", kCot}};
  return f;
}

bool is_greek(std::string_view name) {
  static const char* kGreek[] = {"alpha", "beta",  "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta",
                                 "theta", "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "rho",
                                 "sigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma",
                                 "Delta", "Theta", "Lambda", "Xi", "Sigma", "Phi", "Psi", "Omega"};
  for (const char* g : kGreek) {
    if (name == g) return true;
  }
  return false;
}

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// Splits `s` into tokens; false on anything it does not understand.
bool tokenize(std::string_view s, std::vector<Token>& out) {
  size_t i = 0;
  int frac_digit_args = 0;  // "\frac12": LaTeX reads single digits as the two arguments
  auto push = [&](Token::Kind k) {
    Token t{k};
    out.push_back(t);
  };
  while (i < s.size()) {
    const char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '$' || c == '~') {
      ++i;
      continue;
    }
    if (frac_digit_args > 0) {
      if (is_digit(c)) {
        Token t{Token::kNumber};
        t.value = c - '0';
        out.push_back(t);
        --frac_digit_args;
        ++i;
        continue;
      }
      frac_digit_args = 0;
    }
    if (is_digit(c) || (c == '.' && i + 1 < s.size() && is_digit(s[i + 1]))) {
      size_t j = i;
      while (j < s.size() && is_digit(s[j])) ++j;
      if (j < s.size() && s[j] == '.') {
        ++j;
        while (j < s.size() && is_digit(s[j])) ++j;
      }
      // Scientific notation only when 'e' is followed by digits and no further letter: "1e-7".
      if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
        size_t k = j + 1;
        if (k < s.size() && (s[k] == '-' || s[k] == '+')) ++k;
        if (k < s.size() && is_digit(s[k])) {
          while (k < s.size() && is_digit(s[k])) ++k;
          if (k >= s.size() || !is_alpha(s[k])) j = k;
        }
      }
      Token t{Token::kNumber};
      t.value = std::strtod(std::string(s.substr(i, j - i)).c_str(), nullptr);
      // A numeral in base b: 204_5, 1011_{2} (digits below the base, bases 2-10).
      if (j + 1 < s.size() && s[j] == '_') {
        size_t b = j + 1, e;
        if (s[b] == '{') {
          e = s.find('}', b);
          if (e == std::string_view::npos) return false;
          ++b;
        } else {
          e = b + 1;
        }
        const std::string_view digits = s.substr(i, j - i), base_text = s.substr(b, e - b);
        if (base_text.empty() || base_text.size() > 2 || !std::all_of(base_text.begin(), base_text.end(), is_digit)) {
          return false;
        }
        const int base = std::atoi(std::string(base_text).c_str());
        if (base < 2 || base > 10) return false;
        double v = 0;
        for (char d : digits) {
          if (!is_digit(d) || d - '0' >= base) return false;
          v = v * base + (d - '0');
        }
        t.value = v;
        j = s[j + 1] == '{' ? e + 1 : e;
      }
      out.push_back(t);
      i = j;
      continue;
    }
    if (is_alpha(c)) {
      Token t{Token::kIdent};
      t.name = std::string(1, c);
      ++i;
      // Subscripts belong to the variable: x_1, x_{12}, a_n.
      if (i < s.size() && s[i] == '_') {
        size_t j = i + 1;
        if (j < s.size() && s[j] == '{') {
          const size_t close = s.find('}', j);
          if (close == std::string_view::npos || close - j > 16) return false;
          t.name += std::string(s.substr(i, close + 1 - i));
          i = close + 1;
        } else if (j < s.size() && (is_alpha(s[j]) || is_digit(s[j]))) {
          t.name += std::string(s.substr(i, 2));
          i = j + 1;
        } else {
          return false;
        }
      }
      if (t.name == "e") {
        t.kind = Token::kConst;
        t.value = M_E;
      }
      out.push_back(t);
      continue;
    }
    if (c == '\\') {
      size_t j = i + 1;
      if (j < s.size() && !is_alpha(s[j])) {
        const char e = s[j];
        i = j + 1;
        if (e == '{') push(Token::kSetOpen);
        else if (e == '}') push(Token::kSetClose);
        else if (e == ',' || e == ';' || e == '!' || e == ':' || e == ' ') continue;
        else return false;  // "\%", "\$" ...: not math
        continue;
      }
      while (j < s.size() && is_alpha(s[j])) ++j;
      const std::string_view name = s.substr(i + 1, j - i - 1);
      i = j;
      if (name == "left" || name == "right" || name == "displaystyle" || name == "quad" || name == "qquad" ||
          name == "mathrm" || name == "mathit") {
        continue;  // \mathrm{x} reads as its content in braces
      }
      if (name == "frac" || name == "dfrac" || name == "tfrac" || name == "cfrac") {
        push(Token::kFrac);
        frac_digit_args = 2;
      } else if (name == "sqrt") {
        push(Token::kSqrt);
      } else if (name == "cdot" || name == "times" || name == "ast") {
        Token t{Token::kOp};
        t.op = '*';
        out.push_back(t);
      } else if (name == "div") {
        Token t{Token::kOp};
        t.op = '/';
        out.push_back(t);
      } else if (name == "pi") {
        Token t{Token::kConst};
        t.value = M_PI;
        out.push_back(t);
      } else if (name == "infty") {
        Token t{Token::kConst};
        t.value = INFINITY;
        out.push_back(t);
      } else if (auto f = functions().find(name); f != functions().end()) {
        Token t{Token::kFunc};
        t.func = f->second;
        if (f->second == kLog && i < s.size() && s[i] == '_') {  // \log_b x, \log_{10} x: the base, a number
          size_t b = i + 1, e = b + 1;
          if (b < s.size() && s[b] == '{') {
            e = s.find('}', b);
            if (e == std::string_view::npos || e - b > 24) return false;
            ++b;
          } else if (b >= s.size() || !is_digit(s[b])) {
            return false;
          }
          char* stop = nullptr;
          const std::string base(s.substr(b, e - b));
          t.value = std::strtod(base.c_str(), &stop);
          if (stop != base.c_str() + base.size() || !(t.value > 0) || t.value == 1) return false;
          i = s[i + 1] == '{' ? e + 1 : e;
        }
        out.push_back(t);
      } else if (is_greek(name)) {
        Token t{Token::kIdent};
        t.name = "\\" + std::string(name);
        out.push_back(t);
      } else {
        return false;
      }
      continue;
    }
    // UTF-8 operators and constants that NFKC leaves alone.
    static const std::pair<std::string_view, char> kUnicodeOps[] = {
        {"\xE2\x88\x92", '-'}, {"\xC3\x97", '*'}, {"\xC2\xB7", '*'}, {"\xE2\x8B\x85", '*'}, {"\xC3\xB7", '/'}};
    bool matched = false;
    for (const auto& [text, op] : kUnicodeOps) {
      if (s.substr(i, text.size()) == text) {
        Token t{Token::kOp};
        t.op = op;
        out.push_back(t);
        i += text.size();
        matched = true;
        break;
      }
    }
    if (matched) continue;
    if (s.substr(i, 2) == "\xCF\x80") {  // π
      Token t{Token::kConst};
      t.value = M_PI;
      out.push_back(t);
      i += 2;
      continue;
    }
    switch (c) {
      case '+': case '-': case '*': case '/': case '^': case '!': {
        Token t{Token::kOp};
        t.op = c;
        out.push_back(t);
        break;
      }
      case '(': push(Token::kLParen); break;
      case ')': push(Token::kRParen); break;
      case '{': push(Token::kLBrace); break;
      case '}': push(Token::kRBrace); break;
      case '[': push(Token::kLBracket); break;
      case ']': push(Token::kRBracket); break;
      case ',': push(Token::kComma); break;
      case '=': push(Token::kEquals); break;
      case '|': push(Token::kPipe); break;
      default: return false;
    }
    ++i;
  }
  return true;
}

// ---------------------------------------------------------------- parser

/// Recursive-descent parser over tokens [pos, end) emitting a postfix program.
class Parser {
 public:
  Parser(const std::vector<Token>& tokens, size_t begin, size_t end, Expr& out)
      : t_(tokens), pos_(begin), end_(end), out_(out) {}

  /// Parses the whole range as one expression.
  bool parse_all() { return expr() && pos_ == end_; }

 private:
  const Token& peek() const {
    static const Token kEnd{Token::kEnd};
    return pos_ < end_ ? t_[pos_] : kEnd;
  }
  bool is_op(char op) const { return peek().kind == Token::kOp && peek().op == op; }
  void emit(Expr::Op::Code code, double value = 0, int index = 0) { out_.program.push_back({code, value, index}); }

  struct DepthGuard {
    explicit DepthGuard(int& d) : d_(d) { ++d_; }
    ~DepthGuard() { --d_; }
    int& d_;
  };

  bool expr() {
    DepthGuard g(depth_);
    if (depth_ > kMaxDepth) return false;
    if (!term()) return false;
    while (is_op('+') || is_op('-')) {
      const char op = peek().op;
      ++pos_;
      if (!term()) return false;
      emit(op == '+' ? Expr::Op::kAdd : Expr::Op::kSub);
    }
    return true;
  }

  bool starts_primary() const {
    switch (peek().kind) {
      case Token::kNumber: case Token::kIdent: case Token::kConst: case Token::kFrac: case Token::kSqrt:
      case Token::kFunc: case Token::kLParen: case Token::kLBrace:
        return true;
      default:
        return false;
    }
  }

  bool term() {
    if (!unary()) return false;
    for (;;) {
      if (is_op('*') || is_op('/')) {
        const char op = peek().op;
        ++pos_;
        if (!unary()) return false;
        emit(op == '*' ? Expr::Op::kMul : Expr::Op::kDiv);
      } else if (starts_primary() && peek().kind != Token::kNumber) {  // implicit multiplication: 2x, 2\pi, x(y+1);
                                                                       // never of two numbers ("6 8" is not 48)
        if (!power()) return false;
        emit(Expr::Op::kMul);
      } else {
        return true;
      }
    }
  }

  bool unary() {
    DepthGuard g(depth_);
    if (depth_ > kMaxDepth) return false;
    if (is_op('-') || is_op('+')) {
      const bool neg = peek().op == '-';
      ++pos_;
      if (!unary()) return false;
      if (neg) emit(Expr::Op::kNeg);
      return true;
    }
    return power();
  }

  bool power() {
    if (!postfix()) return false;
    if (is_op('^')) {
      ++pos_;
      if (!unary()) return false;  // right associative: a^b^c = a^(b^c); 2^-1
      emit(Expr::Op::kPow);
    }
    return true;
  }

  bool postfix() {
    if (!primary()) return false;
    while (is_op('!')) {
      ++pos_;
      emit(Expr::Op::kFactorial);
    }
    return true;
  }

  /// "{...}" or a single primary (for \frac and \sqrt arguments).
  bool argument() {
    if (peek().kind == Token::kLBrace) {
      ++pos_;
      if (!expr() || peek().kind != Token::kRBrace) return false;
      ++pos_;
      return true;
    }
    return primary();
  }

  bool primary() {
    DepthGuard g(depth_);
    if (depth_ > kMaxDepth) return false;
    const Token& t = peek();
    switch (t.kind) {
      case Token::kNumber:
      case Token::kConst:
        ++pos_;
        emit(Expr::Op::kConst, t.value);
        return true;
      case Token::kIdent: {
        ++pos_;
        auto it = std::find(out_.variables.begin(), out_.variables.end(), t.name);
        if (it == out_.variables.end()) {
          out_.variables.push_back(t.name);
          it = out_.variables.end() - 1;
        }
        emit(Expr::Op::kVar, 0, static_cast<int>(it - out_.variables.begin()));
        return true;
      }
      case Token::kFrac:
        ++pos_;
        if (!argument() || !argument()) return false;
        emit(Expr::Op::kDiv);
        return true;
      case Token::kSqrt: {
        ++pos_;
        if (peek().kind == Token::kLBracket) {  // \sqrt[n]{x}: the radicand goes first on the stack
          ++pos_;
          const size_t index_start = out_.program.size();
          if (!expr() || peek().kind != Token::kRBracket) return false;
          ++pos_;
          std::vector<Expr::Op> index(out_.program.begin() + static_cast<long>(index_start), out_.program.end());
          out_.program.resize(index_start);
          if (!argument()) return false;
          out_.program.insert(out_.program.end(), index.begin(), index.end());
          emit(Expr::Op::kRoot);
          return true;
        }
        if (!argument()) return false;
        emit(Expr::Op::kConst, 2);
        emit(Expr::Op::kRoot);
        return true;
      }
      case Token::kFunc: {
        const int f = t.func;
        ++pos_;
        // \sin^2 x = (\sin x)^2
        bool squared = false;
        size_t exponent_start = 0, exponent_end = 0;
        if (is_op('^')) {
          ++pos_;
          exponent_start = out_.program.size();
          if (!argument()) return false;
          exponent_end = out_.program.size();
          squared = true;
        }
        std::vector<Expr::Op> exponent(out_.program.begin() + static_cast<long>(exponent_start),
                                       out_.program.begin() + static_cast<long>(exponent_end));
        if (squared) out_.program.resize(exponent_start);
        if (!power()) return false;
        if (f == kLog && t.value > 0) {  // log base b: ln x / ln b
          emit(Expr::Op::kFunc, 0, kLn);
          emit(Expr::Op::kConst, std::log(t.value));
          emit(Expr::Op::kDiv);
        } else {
          emit(Expr::Op::kFunc, 0, f);
        }
        if (squared) {
          out_.program.insert(out_.program.end(), exponent.begin(), exponent.end());
          emit(Expr::Op::kPow);
        }
        return true;
      }
      case Token::kLParen:
      case Token::kLBrace:
      case Token::kLBracket: {
        const Token::Kind close =
            t.kind == Token::kLParen ? Token::kRParen : t.kind == Token::kLBrace ? Token::kRBrace : Token::kRBracket;
        ++pos_;
        if (!expr() || peek().kind != close) return false;
        ++pos_;
        return true;
      }
      case Token::kPipe:
        ++pos_;
        if (!expr() || peek().kind != Token::kPipe) return false;
        ++pos_;
        emit(Expr::Op::kFunc, 0, kAbs);
        return true;
      default:
        return false;
    }
  }

  const std::vector<Token>& t_;
  size_t pos_, end_;
  Expr& out_;
  int depth_ = 0;
};

bool parse_expr(const std::vector<Token>& tokens, size_t begin, size_t end, Expr& out) {
  if (begin >= end) return false;
  Parser p(tokens, begin, end, out);
  return p.parse_all();
}

double factorial(double n) {
  if (n < 0 || std::floor(n) != n) return NAN;
  return std::tgamma(n + 1);
}

/// Deterministic "random" values for free variables: a fixed LCG, values in [0.6, 2.6) avoiding
/// integers and simple fractions by construction.
double sample_value(uint64_t& state) {
  state = state * 6364136223846793005ULL + 1442695040888963407ULL;
  return 0.6 + static_cast<double>(state >> 11) / static_cast<double>(1ULL << 53) * 2.0;
}

}  // namespace

double Expr::eval_with(const std::vector<double>& values) const {
  std::vector<double> stack;
  stack.reserve(program.size());
  auto pop = [&] {
    if (stack.empty()) return static_cast<double>(NAN);
    const double v = stack.back();
    stack.pop_back();
    return v;
  };
  for (const Op& op : program) {
    switch (op.code) {
      case Op::kConst: stack.push_back(op.value); break;
      case Op::kVar:
        stack.push_back(static_cast<size_t>(op.index) < values.size() ? values[static_cast<size_t>(op.index)] : NAN);
        break;
      case Op::kNeg: stack.push_back(-pop()); break;
      case Op::kFactorial: stack.push_back(factorial(pop())); break;
      case Op::kFunc: {
        const double x = pop();
        double r = NAN;
        switch (op.index) {
          case kSin: r = std::sin(x); break;
          case kCos: r = std::cos(x); break;
          case kTan: r = std::tan(x); break;
          case kLn: r = std::log(x); break;
          case kLog: r = std::log10(x); break;
          case kExp: r = std::exp(x); break;
          case kArcsin: r = std::asin(x); break;
          case kArccos: r = std::acos(x); break;
          case kArctan: r = std::atan(x); break;
          case kAbs: r = std::fabs(x); break;
          case kSinh: r = std::sinh(x); break;
          case kCosh: r = std::cosh(x); break;
          case kTanh: r = std::tanh(x); break;
          case kSec: r = 1.0 / std::cos(x); break;
          case kCsc: r = 1.0 / std::sin(x); break;
          case kCot: r = std::cos(x) / std::sin(x); break;
        }
        stack.push_back(r);
        break;
      }
      default: {
        const double b = pop();
        const double a = pop();
        double r = NAN;
        switch (op.code) {
          case Op::kAdd: r = a + b; break;
          case Op::kSub: r = a - b; break;
          case Op::kMul: r = a * b; break;
          case Op::kDiv: r = a / b; break;
          case Op::kPow: r = std::pow(a, b); break;
          case Op::kRoot:  // a = radicand, b = index (pushed after)
            if (a < 0 && std::fmod(b, 2.0) == 1.0) r = -std::pow(-a, 1.0 / b);
            else r = std::pow(a, 1.0 / b);
            break;
          default: break;
        }
        stack.push_back(r);
      }
    }
  }
  return stack.size() == 1 ? stack.back() : NAN;
}

std::optional<Expr> parse_scalar(std::string_view text, const Deadline& deadline) {
  std::vector<Token> t;
  if (!tokenize(text, t) || t.empty()) return std::nullopt;
  deadline.check();
  Expr e;
  if (!parse_expr(t, 0, t.size(), e)) return std::nullopt;
  return e;
}

std::optional<double> eval_constant(std::string_view text, const Deadline& deadline) {
  auto e = parse_scalar(text, deadline);
  if (!e || !e->variables.empty()) return std::nullopt;
  const double v = e->eval_with({});
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

bool numbers_equal(double answer, double gold, double rel_tol) {
  if (std::isinf(gold) && std::isinf(answer)) return answer == gold;  // interval ends: \infty = \infty
  if (!std::isfinite(answer) || !std::isfinite(gold)) return false;
  if (gold == 0.0) return std::fabs(answer) <= 1e-12;
  return std::fabs(answer - gold) <= rel_tol * std::max(std::fabs(answer), std::fabs(gold));
}

bool expr_equal(const Expr& a, const Expr& g, double rel_tol, Match match, const Deadline& deadline) {
  const bool proportional = match != Match::kEqual;
  std::vector<std::string> names = g.variables;
  for (const auto& v : a.variables) {
    if (std::find(names.begin(), names.end(), v) == names.end()) names.push_back(v);
  }
  auto bind = [&](const Expr& e, const std::map<std::string, double>& at) {
    std::vector<double> values;
    for (const auto& v : e.variables) values.push_back(at.at(v));
    return values;
  };
  uint64_t state = 0x5eed5eedULL;
  int agreed = 0;
  double ratio = NAN;
  const int needed = names.empty() ? 1 : 5;
  for (int attempt = 0; attempt < 40 && agreed < needed; ++attempt) {
    deadline.check();
    std::map<std::string, double> at;
    for (const auto& n : names) at[n] = sample_value(state);
    const double gv = g.eval_with(bind(g, at));
    const double av = a.eval_with(bind(a, at));
    if (!std::isfinite(gv)) {
      if (names.empty()) return !proportional && std::isinf(gv) && av == gv;  // -\infty = -\infty
      continue;
    }
    if (proportional) {
      if (gv == 0.0 || !std::isfinite(av) || av == 0.0) return false;
      const double r = av / gv;
      if (std::isnan(ratio)) ratio = r;
      else if (!numbers_equal(r, ratio, rel_tol)) return false;
      if (match == Match::kPositiveMultiple && !(r > 0)) return false;
    } else if (!numbers_equal(av, gv, rel_tol)) {
      return false;
    }
    ++agreed;
  }
  return agreed >= needed;
}

bool expr_evaluable(const Expr& e) {
  uint64_t state = 0x5eed5eedULL;
  for (int attempt = 0; attempt < 40; ++attempt) {
    std::vector<double> values;
    for (size_t i = 0; i < e.variables.size(); ++i) values.push_back(sample_value(state));
    const double v = e.eval_with(values);
    if (std::isfinite(v) || (e.variables.empty() && std::isinf(v))) return true;
    if (e.variables.empty()) return false;
  }
  return false;
}

}  // namespace seer::reward
