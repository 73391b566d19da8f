#include "model/chat_template.h"

#include "core/check.h"
#include "core/did_you_mean.h"

namespace seer::model {
namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string strip_chars(const std::string& s, bool left, bool right, bool newlines_only) {
  size_t b = 0, e = s.size();
  auto drop = [&](char c) { return newlines_only ? c == '\n' : is_ws(c); };
  if (left) while (b < e && drop(s[b])) ++b;
  if (right) while (e > b && drop(s[e - 1])) --e;
  return s.substr(b, e - b);
}
std::string strip(const std::string& s) { return strip_chars(s, true, true, false); }
std::string strip_nl(const std::string& s) { return strip_chars(s, true, true, true); }
std::string lstrip_nl(const std::string& s) { return strip_chars(s, true, false, true); }
std::string rstrip_nl(const std::string& s) { return strip_chars(s, false, true, true); }

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }
bool ends_with(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

std::string render_qwen3(const std::vector<ChatMessage>& messages, const ChatOptions& o) {
  const ChatFamily f = ChatFamily::kQwen3;
  std::string out;
  const bool first_system = !messages.empty() && messages[0].role == "system";
  if (o.tools.is_array() && !o.tools.empty()) {
    out += "<|im_start|>system\n";
    if (first_system) out += messages[0].text(f) + "\n\n";
    out += "# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with "
           "function signatures within <tools></tools> XML tags:\n<tools>";
    for (const auto& tool : o.tools) out += "\n" + python_json(tool);
    out += "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
           "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
           "<args-json-object>}\n</tool_call><|im_end|>\n";
  } else if (first_system) {
    out += "<|im_start|>system\n" + messages[0].text(f) + "<|im_end|>\n";
  }
  // The last real user query (not a wrapped tool response), scanning from the end.
  size_t last_query = messages.empty() ? 0 : messages.size() - 1;
  for (size_t k = messages.size(); k-- > 0;) {
    const std::string t = messages[k].text(f);
    if (messages[k].role == "user" && !(starts_with(t, "<tool_response>") && ends_with(t, "</tool_response>"))) {
      last_query = k;
      break;
    }
  }
  for (size_t i = 0; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    const std::string text = m.text(f);
    const bool last = i + 1 == messages.size();
    if (m.role == "user" || (m.role == "system" && i != 0)) {
      out += "<|im_start|>" + m.role + "\n" + text + "<|im_end|>\n";
    } else if (m.role == "assistant") {
      std::string content = text, reasoning;
      if (m.reasoning_content) {
        reasoning = *m.reasoning_content;
      } else if (text.find("</think>") != std::string::npos) {
        content = lstrip_nl(text.substr(text.rfind("</think>") + 8));
        std::string before = rstrip_nl(text.substr(0, text.find("</think>")));
        const size_t open = before.rfind("<think>");
        reasoning = lstrip_nl(open == std::string::npos ? before : before.substr(open + 7));
      }
      if (i > last_query && (last || !reasoning.empty())) {
        out += "<|im_start|>" + m.role + "\n<think>\n" + strip_nl(reasoning) + "\n</think>\n\n" + lstrip_nl(content);
      } else {
        out += "<|im_start|>" + m.role + "\n" + content;
      }
      if (m.tool_calls.is_array()) {
        for (size_t k = 0; k < m.tool_calls.size(); ++k) {
          if ((k == 0 && !content.empty()) || k > 0) out += "\n";
          nlohmann::ordered_json call = m.tool_calls[k];
          if (call.contains("function") && !call["function"].is_null()) call = call["function"];
          out += "<tool_call>\n{\"name\": \"" + call.value("name", std::string()) + "\", \"arguments\": ";
          const auto& args = call.contains("arguments") ? call["arguments"] : nlohmann::ordered_json();
          out += args.is_string() ? args.get<std::string>() : python_json(args);
          out += "}\n</tool_call>";
        }
      }
      out += "<|im_end|>\n";
    } else if (m.role == "tool") {
      if (i == 0 || messages[i - 1].role != "tool") out += "<|im_start|>user";
      out += "\n<tool_response>\n" + text + "\n</tool_response>";
      if (last || messages[i + 1].role != "tool") out += "<|im_end|>\n";
    }
  }
  if (o.add_generation_prompt) {
    out += "<|im_start|>assistant\n";
    if (o.enable_thinking.has_value() && !*o.enable_thinking) out += "<think>\n\n</think>\n\n";
  }
  return out;
}

std::string render_chatml(const std::vector<ChatMessage>& messages, const ChatOptions& o, bool default_system) {
  const ChatFamily f = default_system ? ChatFamily::kQwen2Vl : ChatFamily::kChatml;
  std::string out;
  for (size_t i = 0; i < messages.size(); ++i) {
    if (i == 0 && default_system && messages[0].role != "system") {
      out += "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n";
    }
    out += "<|im_start|>" + messages[i].role + "\n" + messages[i].text(f) + "<|im_end|>\n";
  }
  if (o.add_generation_prompt) out += "<|im_start|>assistant\n";
  return out;
}

std::string render_llama3(const std::vector<ChatMessage>& messages, const ChatOptions& o, bool always_prompt) {
  std::string out;
  for (size_t i = 0; i < messages.size(); ++i) {
    if (i == 0) out += o.bos_token;
    out += "<|start_header_id|>" + messages[i].role + "<|end_header_id|>\n\n" + strip(messages[i].text(ChatFamily::kLlama3)) +
           "<|eot_id|>";
  }
  if (always_prompt || o.add_generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

std::string render_llama2(const std::vector<ChatMessage>& messages, const ChatOptions& o) {
  size_t start = 0;
  std::optional<std::string> system;
  if (!messages.empty() && messages[0].role == "system") {
    system = messages[0].text(ChatFamily::kLlama2);
    start = 1;
  }
  std::string out;
  for (size_t i = start; i < messages.size(); ++i) {
    const size_t k = i - start;
    const ChatMessage& m = messages[i];
    SEER_CHECK((m.role == "user") == (k % 2 == 0),
               "Llama-2 chat template: conversation roles must alternate user/assistant/user/assistant/... "
               "(message {} is '{}')", i, m.role);
    std::string content = m.text(ChatFamily::kLlama2);
    if (k == 0 && system) content = "<<SYS>>\n" + *system + "\n<</SYS>>\n\n" + content;
    if (m.role == "user") out += o.bos_token + "[INST] " + strip(content) + " [/INST]";
    else if (m.role == "assistant") out += " " + strip(content) + " " + o.eos_token;
  }
  return out;
}

/// llava-hf/llava-1.5 processor template: "USER: <image>\n{text} ASSISTANT: {answer}</s>"; Vicuna adds its
/// system sentence.
std::string render_llava(const std::vector<ChatMessage>& messages, const ChatOptions& o, bool vicuna) {
  std::string out;
  if (vicuna) {
    out += "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, "
           "detailed, and polite answers to the user's questions. ";
  }
  for (const ChatMessage& m : messages) {
    if (m.role == "system") {
      out += m.text(ChatFamily::kLlava) + " ";
      continue;
    }
    std::string role = m.role;
    for (char& c : role) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    out += role + ": ";
    for (const auto& p : m.parts) {
      if (p.kind == ChatPart::kImage) out += "<image>\n";
    }
    for (const auto& p : m.parts) {
      if (p.kind == ChatPart::kText) out += p.text + " ";
    }
  }
  if (o.add_generation_prompt) out += "ASSISTANT:";
  return out;
}

void write_json_string(std::string& out, const std::string& s) {
  out += nlohmann::ordered_json(s).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void write_python_json(std::string& out, const nlohmann::ordered_json& v) {
  if (v.is_object()) {
    out += "{";
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!first) out += ", ";
      first = false;
      write_json_string(out, it.key());
      out += ": ";
      write_python_json(out, it.value());
    }
    out += "}";
  } else if (v.is_array()) {
    out += "[";
    for (size_t i = 0; i < v.size(); ++i) {
      if (i > 0) out += ", ";
      write_python_json(out, v[i]);
    }
    out += "]";
  } else if (v.is_string()) {
    write_json_string(out, v.get<std::string>());
  } else if (v.is_null()) {
    out += "null";
  } else {
    out += v.dump();
  }
}

}  // namespace

std::string image_placeholder(ChatFamily family) {
  switch (family) {
    case ChatFamily::kQwen3:
    case ChatFamily::kQwen2Vl:
      return "<|vision_start|><|image_pad|><|vision_end|>";
    default:
      return "<image>";
  }
}

std::string ChatMessage::text(ChatFamily family) const {
  std::string out;
  for (const auto& p : parts) out += p.kind == ChatPart::kImage ? image_placeholder(family) : p.text;
  return out;
}

ChatFamily detect_chat_family(const std::string& t) {
  if (t.find("<|im_start|>") != std::string::npos) {
    if (t.find("reasoning_content") != std::string::npos) return ChatFamily::kQwen3;
    if (t.find("You are a helpful assistant.") != std::string::npos) return ChatFamily::kQwen2Vl;
    return ChatFamily::kChatml;
  }
  if (t.find("<|start_header_id|>") != std::string::npos) {
    return t.find("add_generation_prompt") != std::string::npos ? ChatFamily::kLlama3 : ChatFamily::kLlama3AlwaysPrompt;
  }
  if (t.find("[INST]") != std::string::npos) return ChatFamily::kLlama2;
  if (t.find("ASSISTANT:") != std::string::npos || t.find("'ASSISTANT") != std::string::npos) {
    return t.find("A chat between") != std::string::npos ? ChatFamily::kVicuna : ChatFamily::kLlava;
  }
  SEER_FAIL("the chat template in tokenizer_config.json is not one seer knows (ChatML/Qwen, Llama-3, Llama-2, "
            "LLaVA/Vicuna); set model.chat_template to the family it follows");
}

ChatFamily chat_family_by_name(const std::string& name) {
  static const std::pair<const char*, ChatFamily> kNames[] = {
      {"chatml", ChatFamily::kChatml}, {"qwen3", ChatFamily::kQwen3},   {"qwen2vl", ChatFamily::kQwen2Vl},
      {"llama3", ChatFamily::kLlama3}, {"llama2", ChatFamily::kLlama2}, {"llava", ChatFamily::kLlava},
      {"vicuna", ChatFamily::kVicuna}};
  std::vector<std::string> names;
  for (const auto& [n, f] : kNames) {
    if (name == n) return f;
    names.emplace_back(n);
  }
  const std::string near = closest_match(name, names);
  SEER_FAIL("unknown chat template family '{}'{}", name, near.empty() ? "" : " (did you mean '" + near + "'?)");
}

std::string render_chat(ChatFamily family, const std::vector<ChatMessage>& messages, const ChatOptions& options) {
  switch (family) {
    case ChatFamily::kQwen3: return render_qwen3(messages, options);
    case ChatFamily::kQwen2Vl: return render_chatml(messages, options, true);
    case ChatFamily::kChatml: return render_chatml(messages, options, false);
    case ChatFamily::kLlama3: return render_llama3(messages, options, false);
    case ChatFamily::kLlama3AlwaysPrompt: return render_llama3(messages, options, true);
    case ChatFamily::kLlama2: return render_llama2(messages, options);
    case ChatFamily::kLlava: return render_llava(messages, options, false);
    case ChatFamily::kVicuna: return render_llava(messages, options, true);
  }
  return "";
}

std::string python_json(const nlohmann::ordered_json& value) {
  std::string out;
  write_python_json(out, value);
  return out;
}

std::vector<ChatMessage> messages_from_json(const nlohmann::ordered_json& messages) {
  SEER_CHECK(messages.is_array(), "messages must be a list");
  std::vector<ChatMessage> out;
  for (size_t i = 0; i < messages.size(); ++i) {
    const auto& m = messages[i];
    SEER_CHECK(m.is_object() && m.contains("role") && m["role"].is_string(), "message {} needs a string 'role'", i);
    ChatMessage msg;
    msg.role = m["role"];
    const auto content = m.contains("content") ? m["content"] : nlohmann::ordered_json("");
    if (content.is_string()) {
      msg.parts.push_back({ChatPart::kText, content.get<std::string>()});
    } else if (content.is_array()) {
      for (const auto& p : content) {
        const std::string type = p.value("type", "");
        if (type == "image" || p.contains("image") || p.contains("image_url")) msg.parts.push_back({ChatPart::kImage, ""});
        else if (p.contains("text")) msg.parts.push_back({ChatPart::kText, p["text"].get<std::string>()});
      }
    } else if (!content.is_null()) {
      SEER_FAIL("message {}: content must be a string or a list of items", i);
    }
    if (m.contains("reasoning_content") && m["reasoning_content"].is_string()) msg.reasoning_content = m["reasoning_content"];
    if (m.contains("tool_calls")) msg.tool_calls = m["tool_calls"];
    out.push_back(std::move(msg));
  }
  return out;
}

}  // namespace seer::model
